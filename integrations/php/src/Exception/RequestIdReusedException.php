<?php

declare(strict_types=1);

namespace Kontingent\Exception;

/** the request id was used before for a different request (409). */
final class RequestIdReusedException extends KontingentException
{
}
