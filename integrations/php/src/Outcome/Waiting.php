<?php

declare(strict_types=1);

namespace Kontingent\Outcome;

/** The outcome `waiting`: sold out: the request waits on the offer's list at position (1 = next). */
final class Waiting extends Outcome
{
    public function __construct(
        public readonly int $entry,
        public readonly int $position,
    ) {
    }

    public function status(): string
    {
        return 'waiting';
    }
}
