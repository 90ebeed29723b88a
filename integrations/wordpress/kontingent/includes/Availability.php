<?php

declare(strict_types=1);

namespace Kontingent\WordPress;

use Kontingent\Exception\KontingentException;

/**
 * The server's public availability snapshot, read for display: how many of each
 * offer are left. What can really be had is decided by the server when a form
 * is posted; a number shown here may be a moment old.
 */
final class Availability
{
    /**
     * Every offer of a snapshot, in the catalog's order: name, the pool it is
     * shown under (its first draw from a pool that not every offer draws from: a
     * restaurant, not the budget they all share) and how many units are left.
     *
     * @return list<array{name: string, pool: string, left: int}>
     */
    public static function offers(array $snapshot): array
    {
        $drawnBy = [];
        foreach ($snapshot['offers'] ?? [] as $o) {
            foreach ($o['draws'] ?? [] as $d) {
                $drawnBy[(int) ($d['pool'] ?? -1)] = ($drawnBy[(int) ($d['pool'] ?? -1)] ?? 0) + 1;
            }
        }
        $everyOffer = count($snapshot['offers'] ?? []);
        $pools = [];
        foreach ($snapshot['pools'] ?? [] as $p) {
            $pools[] = ['name' => (string) ($p['name'] ?? ''), 'free' => max(0, (int) ($p['capacity'] ?? 0) - (int) ($p['held'] ?? 0) - (int) ($p['confirmed'] ?? 0))];
        }
        $offers = [];
        foreach ($snapshot['offers'] ?? [] as $o) {
            $left = PHP_INT_MAX;
            $first = '';
            foreach ($o['draws'] ?? [] as $d) {
                $pool = $pools[(int) ($d['pool'] ?? -1)] ?? ['name' => '', 'free' => 0];
                $shared = $everyOffer > 1 && ($drawnBy[(int) ($d['pool'] ?? -1)] ?? 0) === $everyOffer;
                $first = $first === '' && !$shared ? $pool['name'] : $first;
                $amount = max(1, (int) ($d['amount'] ?? 1));
                $left = min($left, intdiv($pool['free'], $amount));
            }
            $fallback = $pools[(int) ($o['draws'][0]['pool'] ?? -1)]['name'] ?? '';
            $offers[] = ['name' => (string) ($o['name'] ?? ''), 'pool' => $first !== '' ? $first : $fallback, 'left' => $left === PHP_INT_MAX ? 0 : $left];
        }
        return $offers;
    }

    /** `GET /wp-json/kontingent/v1/availability?ledger=NAME`: what the forms' script refreshes from. */
    public static function registerRoute(): void
    {
        register_rest_route('kontingent/v1', '/availability', [
            'methods' => 'GET',
            'permission_callback' => '__return_true',
            'args' => ['ledger' => [
                'type' => 'string',
                'default' => '',
                'validate_callback' => static fn ($v): bool => is_string($v) && ($v === '' || preg_match(Connection::LEDGER_PATTERN, $v) === 1),
            ]],
            'callback' => static function (\WP_REST_Request $request) {
                $client = Connection::client((string) $request->get_param('ledger'));
                if ($client === null) {
                    return new \WP_Error('kontingent_not_configured', __('Kontingent is not configured.', 'kontingent'), ['status' => 503]);
                }
                try {
                    $snapshot = $client->availability();
                } catch (KontingentException $e) {
                    return new \WP_Error('kontingent_' . $e->errorCode, __('The reservation server does not answer now.', 'kontingent'), ['status' => 503]);
                }
                $left = [];
                foreach (self::offers($snapshot) as $o) {
                    $left[$o['name']] = $o['left'];
                }
                $response = rest_ensure_response(['seq' => (int) ($snapshot['seq'] ?? 0), 'paused' => (bool) ($snapshot['paused'] ?? false), 'left' => $left]);
                $response->header('Cache-Control', 'no-store');
                return $response;
            },
        ]);
    }
}
