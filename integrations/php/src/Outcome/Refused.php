<?php

declare(strict_types=1);

namespace Kontingent\Outcome;

use Kontingent\Refusal\Refusal;

/** The outcome `refused`: a normal "no", with the reason a page can show. */
final class Refused extends Outcome
{
    public function __construct(public readonly Refusal $reason)
    {
    }

    public function status(): string
    {
        return 'refused';
    }
}
