<?php

declare(strict_types=1);

namespace Kontingent\Refusal;

/** `customer_limit`: the customer already uses used of limit under rule name. */
final class CustomerLimit extends Refusal
{
    public function __construct(
        public readonly string $name,
        public readonly int $limit,
        public readonly int $used,
    ) {
    }

    public function code(): string
    {
        return 'customer_limit';
    }
}
