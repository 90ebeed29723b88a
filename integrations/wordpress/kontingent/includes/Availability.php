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

    /**
     * What a page's availability URL carries so that the route answers for the
     * ledgers this site's pages show, and for no other the server holds.
     */
    public static function signature(string $ledger): string
    {
        return substr(wp_hash('kontingent-availability|' . $ledger), 0, 20);
    }

    /**
     * `GET /wp-json/kontingent/v1/availability?ledger=NAME&sig=…`: what the forms'
     * script refreshes from. One server read per ledger every 2 s at most, however
     * many visitors ask (a failure is remembered as long), so a rush of open pages
     * costs the server and this site's PHP workers little.
     */
    public static function registerRoute(): void
    {
        register_rest_route('kontingent/v1', '/availability', [
            'methods' => 'GET',
            'permission_callback' => '__return_true',
            'args' => ['sig' => ['type' => 'string', 'default' => ''], 'ledger' => [
                'type' => 'string',
                'default' => '',
                'validate_callback' => static fn ($v): bool => is_string($v) && ($v === '' || preg_match(Connection::LEDGER_PATTERN, $v) === 1),
            ]],
            'callback' => static function (\WP_REST_Request $request) {
                $ledger = (string) $request->get_param('ledger');
                if (!hash_equals(self::signature($ledger), (string) $request->get_param('sig'))) {
                    return new \WP_Error('kontingent_unknown_ledger', __('No such campaign on this site.', 'kontingent'), ['status' => 404]);
                }
                $cache = 'kontingent_snap_' . $ledger;
                $answer = get_transient($cache);
                if (!is_array($answer)) {
                    $client = Connection::client($ledger, reads: true);
                    try {
                        if ($client === null) {
                            throw new KontingentException('not_configured', 'the plugin is not configured');
                        }
                        $snapshot = $client->availability();
                        $left = [];
                        foreach (self::offers($snapshot) as $o) {
                            $left[$o['name']] = $o['left'];
                        }
                        $answer = ['seq' => (int) ($snapshot['seq'] ?? 0), 'paused' => (bool) ($snapshot['paused'] ?? false), 'left' => $left];
                    } catch (KontingentException $e) {
                        $answer = ['error' => $e->errorCode];
                    }
                    set_transient($cache, $answer, 2);
                }
                if (isset($answer['error'])) {
                    return new \WP_Error('kontingent_' . $answer['error'], __('The reservation server does not answer now.', 'kontingent'), ['status' => 503]);
                }
                $response = rest_ensure_response($answer);
                $response->header('Cache-Control', 'no-store');
                return $response;
            },
        ]);
    }
}
