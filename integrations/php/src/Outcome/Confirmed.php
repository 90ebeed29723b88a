<?php

declare(strict_types=1);

namespace Kontingent\Outcome;

/** The outcome `confirmed`: units are confirmed: they exist and are this customer's. */
final class Confirmed extends Outcome
{
    public function __construct(
        public readonly int $reservation,
        public readonly int $units,
    ) {
    }

    public function status(): string
    {
        return 'confirmed';
    }
}
