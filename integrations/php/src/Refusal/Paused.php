<?php

declare(strict_types=1);

namespace Kontingent\Refusal;

/** `paused`: the operator paused sales. */
final class Paused extends Refusal
{
    public function code(): string
    {
        return 'paused';
    }
}
