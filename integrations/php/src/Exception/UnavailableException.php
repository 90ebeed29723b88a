<?php

declare(strict_types=1);

namespace Kontingent\Exception;

/** the server cannot take it now (503: journal, poisoned, timeout; 500): retry with the same request id. */
final class UnavailableException extends KontingentException
{
}
