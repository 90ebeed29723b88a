<?php

declare(strict_types=1);

namespace Kontingent\Exception;

/** no answer came: the server is down, unreachable, or slower than the timeout (after the retries). */
final class TransportException extends KontingentException
{
}
