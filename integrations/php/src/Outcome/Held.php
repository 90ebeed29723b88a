<?php

declare(strict_types=1);

namespace Kontingent\Outcome;

/** The outcome `held`: units are held until expiresAt (ms since the epoch, UTC); confirm or release them by reservation. */
final class Held extends Outcome
{
    public function __construct(
        public readonly int $reservation,
        public readonly int $expiresAt,
        public readonly int $units,
    ) {
    }

    public function status(): string
    {
        return 'held';
    }
}
