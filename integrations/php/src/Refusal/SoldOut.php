<?php

declare(strict_types=1);

namespace Kontingent\Refusal;

/** `sold_out`: pool has only left units, requested were asked for. */
final class SoldOut extends Refusal
{
    public function __construct(
        public readonly string $pool,
        public readonly int $requested,
        public readonly int $left,
    ) {
    }

    public function code(): string
    {
        return 'sold_out';
    }
}
