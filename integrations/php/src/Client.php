<?php

declare(strict_types=1);

namespace Kontingent;

use Kontingent\Exception\KontingentException;
use Kontingent\Exception\TransportException;
use Kontingent\Exception\UnavailableException;
use Kontingent\Outcome\Outcome;

/**
 * A client of one ledger on a `kontingent serve`, in pure PHP (streams: no
 * extension, no dependency).
 *
 * Every call has a timeout. A reserve is retried after a timeout, a lost
 * connection or a 503 with the *same* request id: the server answers a repeat
 * with the first outcome, so a retry can never reserve twice. Reads are
 * retried too; confirm and release are not (a second try of one that went
 * through would be a `reservation_state` error, not the outcome).
 *
 *     $k = new Client('http://127.0.0.1:7070', getenv('KONTINGENT_CLIENT_KEY'), 'emstek');
 *     $outcome = $k->reserve($requestId, 'anna@example.org', [['zur-post-20', 1]]);
 */
final class Client
{
    /** @var callable(string, string, array<string, string>, ?string, float): array{int, string} */
    private $send;

    /**
     * @param string $baseUrl  the server, e.g. `http://127.0.0.1:7070`
     * @param string $key      the client key (the operator key for pause and resume)
     * @param string $ledger   the ledger (campaign) name
     * @param float  $timeout  seconds one attempt may take
     * @param int    $retries  further attempts after a timeout, a lost connection or a 503
     * @param float  $backoff  seconds before the first retry (doubling)
     */
    public function __construct(
        private readonly string $baseUrl,
        private readonly string $key,
        private readonly string $ledger,
        private readonly float $timeout = 5.0,
        private readonly int $retries = 2,
        private readonly float $backoff = 0.2,
        ?callable $send = null,
    ) {
        $this->send = $send ?? self::streamSend(...);
    }

    /** A request id for a form: mint it when the form is rendered, send it with the post. */
    public static function newRequestId(): string
    {
        return bin2hex(random_bytes(16));
    }

    /**
     * Ask for units: all lines or none. `$lines` is a list of `[offer, quantity]`.
     * `$options`: channel, attributes (string map), hold_ms, confirm, up_to, waitlist.
     *
     * @param list<array{0: string, 1: int}> $lines
     * @param array<string, mixed> $options
     */
    public function reserve(string $requestId, string $customer, array $lines, array $options = []): Outcome
    {
        $body = ['request_id' => $requestId, 'customer' => $customer, 'lines' => self::lines($lines)] + $options;
        return Outcome::fromArray($this->call('POST', 'reserve', $body, true));
    }

    /** What `reserve` would get now; nothing changes. */
    public function preview(string $requestId, string $customer, array $lines, array $options = []): Outcome
    {
        $body = ['request_id' => $requestId, 'customer' => $customer, 'lines' => self::lines($lines)] + $options;
        return Outcome::fromArray($this->call('POST', 'preview', $body, true));
    }

    public function confirm(int $reservation): Outcome
    {
        return Outcome::fromArray($this->call('POST', 'confirm', ['reservation' => $reservation], false));
    }

    public function release(int $reservation): Outcome
    {
        return Outcome::fromArray($this->call('POST', 'release', ['reservation' => $reservation], false));
    }

    public function leaveWaitlist(int $entry): Outcome
    {
        return Outcome::fromArray($this->call('POST', 'leave-waitlist', ['entry' => $entry], false));
    }

    /**
     * Why `$offer` cannot be had now on `$channel` (a refusal: not open yet,
     * paused, sold out...), or null when it can.
     */
    public function whyUnavailable(string $offer, string $channel = 'web'): ?\Kontingent\Refusal\Refusal
    {
        $q = self::query(['offer' => $offer, 'channel' => $channel]);
        $a = $this->call('GET', "why-unavailable?{$q}", null, true);
        return $a === null ? null : \Kontingent\Refusal\Refusal::fromArray(is_array($a) ? $a : []);
    }

    /** The server's clock now, in ms since 1970 (a rehearsal's clock included): count down by it. */
    public function now(): int
    {
        $a = $this->call('GET', '/v1/clock', null, true);
        return Outcome::int(is_array($a) ? $a : [], 'now');
    }

    /** `GET /v1/health`: `['status' => 'ok']`; a server that cannot take commands now throws `UnavailableException`. */
    public function health(): array
    {
        return $this->object('GET', '/v1/health');
    }

    /** The public availability snapshot (pools and offers with what is left). */
    public function availability(): array
    {
        return $this->object('GET', 'availability');
    }

    /** One reservation as the server knows it, or null. */
    public function reservation(int $id): ?array
    {
        $a = $this->call('GET', "reservations/{$id}", null, true);
        if ($a !== null && !is_array($a)) {
            throw KontingentException::badAnswer('a reservation that is not a JSON object');
        }
        return $a;
    }

    /** The next free slots of a slot template. */
    public function slots(string $template, string $channel = 'web', int $count = 10): array
    {
        $q = self::query(['template' => $template, 'channel' => $channel, 'count' => $count]);
        return $this->object('GET', "slots?{$q}");
    }

    /** Stop intake (operator key): every later reserve is refused `paused`. */
    public function pause(): Outcome
    {
        return Outcome::fromArray($this->call('POST', 'pause', [], true));
    }

    public function resume(): Outcome
    {
        return Outcome::fromArray($this->call('POST', 'resume', [], true));
    }

    /**
     * What consumer `$name` is given now: `['ledger', 'cursor', 'through',
     * 'notifications' => [['key', 'event', 'current'], ...]]`. Act on each
     * (de-duplicating by `key`), then `ack($name, $seq)`.
     */
    public function consume(string $name, int $limit = 100): array
    {
        return $this->object('GET', 'consumers/' . rawurlencode($name) . "/events?limit={$limit}");
    }

    public function ack(string $name, int $seq): Outcome
    {
        return Outcome::fromArray($this->call('POST', 'consumers/' . rawurlencode($name) . '/ack', ['seq' => $seq], true));
    }

    /** A query string with `&` whatever `arg_separator.output` says (some hosts set `&amp;`). */
    private static function query(array $q): string
    {
        return http_build_query($q, '', '&', PHP_QUERY_RFC3986);
    }

    /** An answer that must be a JSON object or list; anything else is `bad_answer`, never a TypeError. */
    private function object(string $method, string $path): array
    {
        $a = $this->call($method, $path, null, true);
        if (!is_array($a)) {
            throw KontingentException::badAnswer("{$path}: not a JSON object");
        }
        return $a;
    }

    /** @param list<array{0: string, 1: int}> $lines */
    private static function lines(array $lines): array
    {
        return array_map(static fn (array $l): array => ['offer' => $l[0], 'quantity' => $l[1]], $lines);
    }

    /** One call, retried when `$retry` and no answer (or a 503) came. */
    private function call(string $method, string $path, ?array $body, bool $retry): mixed
    {
        // A path from the root is the server's; any other is under this ledger.
        $url = rtrim($this->baseUrl, '/')
            . (str_starts_with($path, '/') ? $path : '/v1/ledgers/' . rawurlencode($this->ledger) . '/' . $path);
        $json = $body === null ? null : json_encode($body ?: new \stdClass(), JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES);
        $headers = ['Authorization' => "Bearer {$this->key}", 'Accept' => 'application/json'];
        if ($json !== null) {
            $headers['Content-Type'] = 'application/json';
        }
        $attempts = $retry ? $this->retries + 1 : 1;
        $wait = $this->backoff;
        for ($i = 1; ; $i++) {
            try {
                [$status, $text] = ($this->send)($method, $url, $headers, $json, $this->timeout);
                $decoded = json_decode($text, true, 64);
                if ($status === 200) {
                    if ($decoded === null && trim($text) !== 'null') {
                        throw KontingentException::badAnswer('a 200 without JSON', $status);
                    }
                    return $decoded;
                }
                throw KontingentException::fromAnswer($status, $decoded);
            } catch (TransportException | UnavailableException $e) {
                if ($i >= $attempts) {
                    throw $e;
                }
                usleep((int) ($wait * 1e6));
                $wait *= 2;
            }
        }
    }

    /**
     * HTTP with PHP's own streams: a timeout for the whole attempt, no redirects,
     * the body at most 8 MiB.
     *
     * @param array<string, string> $headers
     * @return array{int, string}
     */
    private static function streamSend(string $method, string $url, array $headers, ?string $body, float $timeout): array
    {
        $lines = [];
        foreach ($headers as $k => $v) {
            $lines[] = "{$k}: {$v}";
        }
        $ctx = stream_context_create(['http' => [
            'method' => $method,
            'header' => implode("\r\n", $lines),
            'content' => $body ?? '',
            'timeout' => $timeout,
            'ignore_errors' => true,
            'follow_location' => 0,
            'protocol_version' => 1.1,
        ]]);
        // A monotonic deadline: a wall clock set back mid-answer must not stretch it.
        $deadline = hrtime(true) + (int) (min(max($timeout, 0.0), 3600.0) * 1e9);
        $stream = @fopen($url, 'r', false, $ctx);
        if ($stream === false) {
            $err = error_get_last()['message'] ?? 'no connection';
            throw new TransportException('transport', "no answer from {$url}: " . KontingentException::bound($err, 300));
        }
        $meta = stream_get_meta_data($stream);
        $status = 0;
        foreach ($meta['wrapper_data'] ?? [] as $h) {
            if (preg_match('#^HTTP/\S+\s+(\d{3})#', (string) $h, $m)) {
                $status = (int) $m[1];
            }
        }
        $text = '';
        while (!feof($stream)) {
            if (hrtime(true) > $deadline) {
                fclose($stream);
                throw new TransportException('transport', "the answer from {$url} took longer than {$timeout} s");
            }
            $chunk = fread($stream, 65536);
            if ($chunk === false) {
                break;
            }
            $text .= $chunk;
            if (strlen($text) > 8 << 20) {
                fclose($stream);
                throw KontingentException::badAnswer('an answer over 8 MiB', $status);
            }
            if (stream_get_meta_data($stream)['timed_out']) {
                fclose($stream);
                throw new TransportException('transport', "the answer from {$url} took longer than {$timeout} s");
            }
        }
        fclose($stream);
        if ($status === 0) {
            throw KontingentException::badAnswer('no HTTP status line');
        }
        return [$status, $text];
    }
}
