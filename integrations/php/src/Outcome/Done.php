<?php

declare(strict_types=1);

namespace Kontingent\Outcome;

/** The outcome `done`: a command without a result of its own (pause, resume, ack...). */
final class Done extends Outcome
{
    public function status(): string
    {
        return 'done';
    }
}
