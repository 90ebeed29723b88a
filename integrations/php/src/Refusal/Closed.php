<?php

declare(strict_types=1);

namespace Kontingent\Refusal;

/** `closed`: sales closed at closedAt. */
final class Closed extends Refusal
{
    public function __construct(
        public readonly int $closedAt,
    ) {
    }

    public function code(): string
    {
        return 'closed';
    }
}
