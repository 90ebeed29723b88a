<?php

declare(strict_types=1);

namespace Kontingent\Refusal;

use Kontingent\Exception\KontingentException;
use Kontingent\Outcome\Outcome;

/** Why a request was refused; `code()` is the core's stable reason. */
abstract class Refusal
{
    abstract public function code(): string;

    public static function fromArray(array $a): Refusal
    {
        $int = static fn (string $k): int => Outcome::int($a, $k);
        $str = static fn (string $k): string => Outcome::str($a, $k);
        return match ($a['reason'] ?? null) {
            'sold_out' => new SoldOut($str('pool'), $int('requested'), $int('left')),
            'customer_limit' => new CustomerLimit($str('name'), $int('limit'), $int('used')),
            'not_open_yet' => new NotOpenYet($int('opens_at')),
            'closed' => new Closed($int('closed_at')),
            'paused' => new Paused(),
            'rule' => new Rule($str('name'), $str('detail')),
            'hold_expired' => new HoldExpired($int('expired_at')),
            default => throw KontingentException::badAnswer('a refusal with an unknown reason'),
        };
    }
}
