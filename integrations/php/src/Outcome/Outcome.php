<?php

declare(strict_types=1);

namespace Kontingent\Outcome;

use Kontingent\Exception\KontingentException;
use Kontingent\Refusal\Refusal;

/**
 * What a command did: a normal value, a refusal included (`Refused`), never an
 * exception. `status` is the core's name: held, confirmed, released, waiting,
 * left, promoted, refused, done.
 */
abstract class Outcome
{
    abstract public function status(): string;

    /** The outcome in the server's JSON, as decoded. */
    public static function fromArray(array $a): Outcome
    {
        $int = static fn (string $k): int => self::int($a, $k);
        return match ($a['status'] ?? null) {
            'held' => new Held($int('reservation'), $int('expires_at'), $int('units')),
            'confirmed' => new Confirmed($int('reservation'), $int('units')),
            'released' => new Released($int('reservation')),
            'waiting' => new Waiting($int('entry'), $int('position')),
            'left' => new Left($int('entry')),
            'promoted' => new Promoted($int('entry'), $int('reservation')),
            'refused' => new Refused(Refusal::fromArray($a)),
            'done' => new Done(),
            default => throw KontingentException::badAnswer('an outcome with an unknown status'),
        };
    }

    /** @internal */
    public static function int(array $a, string $key): int
    {
        $v = $a[$key] ?? null;
        if (!is_int($v) || $v < 0) {
            throw KontingentException::badAnswer("field {$key} is not a whole number");
        }
        return $v;
    }

    /** @internal */
    public static function str(array $a, string $key): string
    {
        $v = $a[$key] ?? null;
        if (!is_string($v)) {
            throw KontingentException::badAnswer("field {$key} is not a string");
        }
        return $v;
    }
}
