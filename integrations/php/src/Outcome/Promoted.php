<?php

declare(strict_types=1);

namespace Kontingent\Outcome;

/** The outcome `promoted`: a waiting entry became a hold. */
final class Promoted extends Outcome
{
    public function __construct(
        public readonly int $entry,
        public readonly int $reservation,
    ) {
    }

    public function status(): string
    {
        return 'promoted';
    }
}
