<?php

declare(strict_types=1);

namespace Kontingent\Outcome;

/** The outcome `left`: the waiting entry left its list. */
final class Left extends Outcome
{
    public function __construct(
        public readonly int $entry,
    ) {
    }

    public function status(): string
    {
        return 'left';
    }
}
