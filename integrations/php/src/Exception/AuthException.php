<?php

declare(strict_types=1);

namespace Kontingent\Exception;

/** the key is missing, wrong, or not the operator key (401, 403). */
final class AuthException extends KontingentException
{
}
