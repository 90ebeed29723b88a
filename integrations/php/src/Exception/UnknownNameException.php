<?php

declare(strict_types=1);

namespace Kontingent\Exception;

/** an offer, pool, reservation, consumer or ledger the server does not have (404). */
final class UnknownNameException extends KontingentException
{
}
