<?php

declare(strict_types=1);

namespace Kontingent\Refusal;

/** `rule`: an order-intake rule said no (name, and detail for the page). */
final class Rule extends Refusal
{
    public function __construct(
        public readonly string $name,
        public readonly string $detail,
    ) {
    }

    public function code(): string
    {
        return 'rule';
    }
}
