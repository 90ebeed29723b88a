<?php

declare(strict_types=1);

namespace Kontingent\Refusal;

/** `not_open_yet`: sales open at opensAt (ms since the epoch, UTC): show a countdown. */
final class NotOpenYet extends Refusal
{
    public function __construct(
        public readonly int $opensAt,
    ) {
    }

    public function code(): string
    {
        return 'not_open_yet';
    }
}
