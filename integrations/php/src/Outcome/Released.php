<?php

declare(strict_types=1);

namespace Kontingent\Outcome;

/** The outcome `released`: the reservation's units are free again. */
final class Released extends Outcome
{
    public function __construct(
        public readonly int $reservation,
    ) {
    }

    public function status(): string
    {
        return 'released';
    }
}
