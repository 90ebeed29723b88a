<?php

declare(strict_types=1);

namespace Kontingent\WordPress;

use Kontingent\Client;
use Kontingent\Exception\KontingentException;
use Kontingent\Exception\TransportException;

/** The PHP client, configured from the settings, speaking through WordPress's HTTP API. */
final class Connection
{
    /** Ledger names as the server takes them in a URL. */
    public const LEDGER_PATTERN = '/^[a-z0-9_-]{1,64}$/';

    /**
     * A client of `$ledger` (the settings' ledger when empty), with the operator
     * key when `$operator`, trying once when it only `$reads` for a page; null
     * when the plugin is not configured for it yet.
     */
    public static function client(string $ledger = '', bool $operator = false, bool $reads = false): ?Client
    {
        $s = Settings::get();
        $ledger = $ledger !== '' ? $ledger : $s['ledger'];
        $key = $operator ? $s['operator_key'] : $s['client_key'];
        if ($s['server_url'] === '' || $key === '' || !preg_match(self::LEDGER_PATTERN, $ledger)) {
            return null;
        }
        if ($reads) {
            // Rendering a page: one short try, so that a server that is down holds
            // no PHP worker for long; the page says it cannot show the form.
            return new Client($s['server_url'], $key, $ledger, timeout: 2.0, retries: 0, send: [self::class, 'send']);
        }
        // A reserve is retried (with its request id, so never twice) for about 10 s
        // at most; the visitor's browser waits that long, not longer.
        return new Client($s['server_url'], $key, $ledger, timeout: 3.0, retries: 2, backoff: 0.3, send: [self::class, 'send']);
    }

    /**
     * One HTTP exchange over `wp_remote_request` (the site's proxy settings and
     * transports apply); redirects are not followed.
     *
     * @param array<string, string> $headers
     * @return array{int, string}
     */
    public static function send(string $method, string $url, array $headers, ?string $body, float $timeout): array
    {
        $response = wp_remote_request($url, [
            'method' => $method,
            'headers' => $headers,
            'body' => $body,
            'timeout' => $timeout,
            'redirection' => 0,
            'limit_response_size' => 8 << 20,
            'user-agent' => 'kontingent-wordpress/' . KONTINGENT_VERSION,
        ]);
        if (is_wp_error($response)) {
            throw new TransportException('transport', 'no answer from the kontingent server: ' . KontingentException::bound($response->get_error_message(), 300));
        }
        return [(int) wp_remote_retrieve_response_code($response), (string) wp_remote_retrieve_body($response)];
    }
}
