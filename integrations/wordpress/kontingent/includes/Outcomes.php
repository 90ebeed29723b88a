<?php

declare(strict_types=1);

namespace Kontingent\WordPress;

use Kontingent\Outcome\Outcome;
use Kontingent\Outcome\Refused;

/**
 * What a visitor is told: the server's outcome (or why there is none) as a
 * message. Each message carries the outcome's status and reason as data
 * attributes, for a theme's styles and for tests.
 */
final class Outcomes
{
    /** The outcome as plain data, for a transient: status, reason and their fields. */
    public static function toArray(Outcome $o): array
    {
        $a = ['status' => $o->status()];
        if ($o instanceof Refused) {
            return $a + ['reason' => $o->reason->code()] + get_object_vars($o->reason);
        }
        return $a + get_object_vars($o);
    }

    /** Where the outcome of the form with `$requestId` is kept for its result page. */
    public static function key(string $requestId): string
    {
        return 'kontingent_o_' . $requestId;
    }

    /**
     * The message for a stored outcome. `$now` is the server's clock (for a
     * countdown), `$offers` what is left now (for "what is left" after sold out).
     *
     * @param list<array{name: string, pool: string, left: int}> $offers
     */
    public static function render(array $o, int $now, array $offers, string $ledger): string
    {
        $status = (string) ($o['status'] ?? 'error');
        $reason = (string) ($o['reason'] ?? ($o['code'] ?? ''));
        $kind = 'error';
        switch ($status) {
            case 'confirmed':
                $kind = 'success';
                $text = esc_html(sprintf(
                    /* translators: %d: reservation number */
                    __('Confirmed: reservation %d is yours. A confirmation e-mail is on its way.', 'kontingent'),
                    (int) $o['reservation']
                ));
                break;
            case 'held':
                $kind = 'success';
                $text = esc_html(sprintf(
                    /* translators: %d: reservation number */
                    __('Reserved: reservation %d is held for you.', 'kontingent'),
                    (int) $o['reservation']
                ));
                break;
            case 'waiting':
                $kind = 'info';
                $text = esc_html(sprintf(
                    /* translators: %d: position on the waiting list */
                    __('Sold out for now: you are number %d on the waiting list.', 'kontingent'),
                    (int) $o['position']
                ));
                break;
            case 'refused':
                [$kind, $text] = self::refusal($o, $now, $offers, $ledger);
                break;
            case 'failed':
                $text = esc_html($reason === 'request_id_reused'
                    ? __('This form was sent already, with other choices; its first answer stands. Reload the page for a new form.', 'kontingent')
                    : sprintf(
                        /* translators: %s: error code */
                        __('This cannot be reserved (%s).', 'kontingent'),
                        $reason
                    ));
                break;
            case 'invalid':
                $text = esc_html((string) ($o['message'] ?? __('Please check the form.', 'kontingent')));
                break;
            default:
                $text = esc_html(sprintf(
                    /* translators: %s: error code */
                    __('No answer from the reservation server just now (%s). Send the same form again in a moment: it cannot reserve twice.', 'kontingent'),
                    $reason !== '' ? $reason : 'error'
                ));
                $text .= FormPost::retryForm(is_array($o['retry'] ?? null) ? $o['retry'] : []);
        }
        return sprintf(
            '<div class="kontingent-outcome kontingent-%1$s" role="status" data-status="%2$s" data-reason="%3$s" data-reservation="%4$s">%5$s</div>',
            esc_attr($kind),
            esc_attr($status),
            esc_attr($reason),
            esc_attr((string) ($o['reservation'] ?? '')),
            $text
        );
    }

    /**
     * @param list<array{name: string, pool: string, left: int}> $offers
     * @return array{string, string} the kind and the escaped HTML
     */
    private static function refusal(array $o, int $now, array $offers, string $ledger): array
    {
        switch ($o['reason'] ?? '') {
            case 'sold_out':
                $text = esc_html(sprintf(
                    /* translators: 1: what ran out (a restaurant, the budget), 2: units left, 3: units asked for */
                    __('Sold out: %1$s has %2$d left, you asked for %3$d.', 'kontingent'),
                    self::label((string) $o['pool'], $ledger),
                    (int) $o['left'],
                    (int) $o['requested']
                ));
                $still = array_values(array_filter($offers, static fn (array $x): bool => $x['left'] > 0));
                if ($still === []) {
                    $text .= ' ' . esc_html__('Nothing else is left.', 'kontingent');
                } else {
                    $items = array_map(static fn (array $x): string => sprintf(
                        '<li data-offer="%1$s">%2$s</li>',
                        esc_attr($x['name']),
                        esc_html(sprintf(
                            /* translators: 1: offer, 2: units left */
                            __('%1$s: %2$d left', 'kontingent'),
                            self::label($x['name'], $ledger),
                            $x['left']
                        ))
                    ), array_slice($still, 0, 10));
                    $text .= ' ' . esc_html__('Still available:', 'kontingent') . '<ul class="kontingent-still">' . implode('', $items) . '</ul>';
                }
                return ['warning', $text];
            case 'not_open_yet':
                return ['info', esc_html__('Not open yet: it opens in', 'kontingent') . ' ' . self::countdown((int) $o['opensAt'], $now)];
            case 'paused':
                return ['warning', esc_html__('Paused: reservations are paused for a moment. Please try again shortly.', 'kontingent')];
            case 'closed':
                return ['warning', esc_html__('Closed: this campaign has ended.', 'kontingent')];
            case 'customer_limit':
                return ['warning', esc_html(sprintf(
                    /* translators: 1: the limit's name, 2: the limit, 3: already used */
                    __('Over the limit per customer (%1$s: %2$d, of which you have %3$d already).', 'kontingent'),
                    (string) $o['name'],
                    (int) $o['limit'],
                    (int) $o['used']
                ))];
            case 'rule':
                return ['warning', esc_html(sprintf(
                    /* translators: 1: the rule's name, 2: why */
                    __('Not possible: %1$s (%2$s).', 'kontingent'),
                    (string) $o['name'],
                    (string) $o['detail']
                ))];
            default:
                return ['warning', esc_html__('Not possible right now.', 'kontingent')];
        }
    }

    /** A countdown to `$at` by the server's clock `$now`; the script ticks it. */
    public static function countdown(int $at, int $now): string
    {
        $left = max(0, intdiv($at - $now, 1000));
        return sprintf(
            '<span class="kontingent-countdown" data-opens-at="%1$d" data-now="%2$d" data-open-text="%3$s">%4$s</span>',
            $at,
            $now,
            esc_attr__('now: reload the page', 'kontingent'),
            esc_html(sprintf('%d:%02d:%02d', intdiv($left, 3600), intdiv($left % 3600, 60), $left % 60))
        );
    }

    /** An offer's or pool's name as visitors see it (filter `kontingent_label`). */
    public static function label(string $name, string $ledger): string
    {
        return (string) apply_filters('kontingent_label', $name, $ledger);
    }
}
