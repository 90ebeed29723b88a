<?php

declare(strict_types=1);

namespace Kontingent\Refusal;

/** `hold_expired`: the hold lapsed at expiredAt before it was confirmed. */
final class HoldExpired extends Refusal
{
    public function __construct(
        public readonly int $expiredAt,
    ) {
    }

    public function code(): string
    {
        return 'hold_expired';
    }
}
