<?php

declare(strict_types=1);

namespace Kontingent\Exception;

/**
 * An error: the request was wrong, or the server could not take it. `errorCode`
 * is the stable code every kontingent binding and the server share
 * (docs/SEMANTICS.md, "Error codes"; `transport` when no answer came, `bad_answer`
 * when what came was not kontingent's). Nothing changed on the server.
 */
class KontingentException extends \RuntimeException
{
    /** @param array<string, mixed> $details */
    public function __construct(
        public readonly string $errorCode,
        string $message,
        public readonly int $httpStatus = 0,
        public readonly array $details = [],
        ?\Throwable $previous = null,
    ) {
        parent::__construct($message, 0, $previous);
    }

    /** The exception for an error body `{code, message, details}` with its status. */
    public static function fromAnswer(int $status, mixed $body): KontingentException
    {
        if (!is_array($body) || !is_string($body['code'] ?? null) || !is_string($body['message'] ?? null)) {
            // A proxy's 502 page, an overloaded host's 503: retried like the server's own.
            $why = "the server's answer is not kontingent's: HTTP {$status} without a kontingent error body";
            return $status >= 500
                ? new UnavailableException('bad_answer', $why, $status)
                : self::badAnswer("HTTP {$status} without a kontingent error body", $status);
        }
        $code = $body['code'];
        $message = self::bound($body['message']);
        $details = is_array($body['details'] ?? null) ? $body['details'] : [];
        $class = match (true) {
            $status === 401 || $status === 403 => AuthException::class,
            $status === 503 || $status === 500 => UnavailableException::class,
            $code === 'request_id_reused' => RequestIdReusedException::class,
            str_starts_with($code, 'unknown_') => UnknownNameException::class,
            default => InvalidRequestException::class,
        };
        return new $class($code, $message, $status, $details);
    }

    /** At most `$max` bytes of `$s`, cut at a character (no mbstring needed). */
    public static function bound(string $s, int $max = 600): string
    {
        if (strlen($s) <= $max) {
            return $s;
        }
        // Drop a multi-byte character the cut split.
        return preg_replace('/[\xC0-\xFF][\x80-\xBF]*$/', '', substr($s, 0, $max)) . '…';
    }

    public static function badAnswer(string $why, int $status = 0): KontingentException
    {
        return new KontingentException('bad_answer', "the server's answer is not kontingent's: {$why}", $status);
    }
}
