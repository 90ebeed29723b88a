<?php

declare(strict_types=1);

namespace Kontingent\Exception;

/** the request itself is wrong (422 and the rest): the field is named in the message. */
final class InvalidRequestException extends KontingentException
{
}
