<?php

declare(strict_types=1);

namespace Kontingent\WordPress;

use Kontingent\Client;
use Kontingent\Exception\KontingentException;
use Kontingent\Refusal\Closed;
use Kontingent\Refusal\NotOpenYet;
use Kontingent\Refusal\Paused;

/**
 * `[kontingent_vouchers ledger="emstek" offers="zur-post-20,..." max="5"]`: the
 * voucher form. Offers by restaurant (the pool of each offer's first draw) with
 * what is left, kept live by the script; a countdown before the opening.
 */
final class VoucherForm
{
    public const ACTION = 'kontingent_voucher';

    /** @param array<string, string>|string $atts */
    public static function shortcode($atts): string
    {
        $atts = shortcode_atts(['ledger' => '', 'offers' => '', 'max' => '5'], is_array($atts) ? $atts : [], 'kontingent_vouchers');
        $ledger = sanitize_key($atts['ledger']) ?: Settings::get()['ledger'];
        $client = Connection::client($ledger, reads: true);
        if ($client === null) {
            return Page::notConfigured();
        }
        try {
            $snapshot = $client->availability();
            $now = $client->now();
            $offers = self::chosen(Availability::offers($snapshot), $atts['offers']);
            $why = $offers === [] ? null : $client->whyUnavailable($offers[0]['name']);
        } catch (KontingentException $e) {
            return Page::unavailable($ledger, $e, __('Reservations cannot be taken right now. Please try again in a moment.', 'kontingent'));
        }
        $html = Page::head($ledger, 'kontingent-vouchers', $now, $offers, $final);
        if ($final) {
            return $html . '</div>';
        }
        $html .= self::banner($why, $now);
        $html .= '<form method="post" class="kontingent-form" action="' . esc_url(admin_url('admin-post.php')) . '">';
        // The offers the shortcode names are signed into the form: none other can be posted.
        $html .= FormPost::hiddenFields(self::ACTION, $ledger, trim($atts['offers']) === '' ? '' : implode(',', array_column($offers, 'name')));
        $byPool = [];
        foreach ($offers as $o) {
            $byPool[$o['pool']][] = $o;
        }
        foreach ($byPool as $pool => $list) {
            $html .= '<fieldset class="kontingent-pool"><legend>' . esc_html(Outcomes::label((string) $pool, $ledger)) . '</legend>';
            foreach ($list as $o) {
                $html .= Page::choice('offer', $o, $ledger);
            }
            $html .= '</fieldset>';
        }
        $max = max(1, min(10, (int) $atts['max']));
        $html .= '<p><label>' . esc_html__('How many', 'kontingent')
            . sprintf(' <input type="number" name="quantity" min="1" max="%d" value="1" required /></label></p>', $max);
        $html .= Page::emailField();
        $html .= '<p><button type="submit">' . esc_html__('Reserve', 'kontingent') . '</button></p>';
        return $html . '</form></div>';
    }

    public static function handle(): void
    {
        $offer = FormPost::posted('offer');
        $quantity = (int) FormPost::posted('quantity');
        FormPost::handle(
            self::ACTION,
            ['offer', 'quantity', 'email'],
            static function (string $scope) use ($offer, $quantity): ?string {
                if ($offer === '' || ($scope !== '' && !in_array($offer, explode(',', $scope), true))) {
                    return __('Please choose a voucher.', 'kontingent');
                }
                return $quantity >= 1 && $quantity <= 10 ? null : __('Please choose how many vouchers (1 to 10).', 'kontingent');
            },
            static fn (Client $c, string $id, string $customer) => $c->reserve($id, $customer, [[$offer, $quantity]], ['channel' => 'web', 'confirm' => true])
        );
    }

    /**
     * @param list<array{name: string, pool: string, left: int}> $offers
     * @return list<array{name: string, pool: string, left: int}>
     */
    private static function chosen(array $offers, string $names): array
    {
        $wanted = array_filter(array_map('trim', explode(',', $names)));
        if ($wanted === []) {
            return $offers;
        }
        return array_values(array_filter($offers, static fn (array $o): bool => in_array($o['name'], $wanted, true)));
    }

    /** What stands before the whole form: the opening's countdown, a pause, the end. */
    private static function banner(?\Kontingent\Refusal\Refusal $why, int $now): string
    {
        if ($why instanceof NotOpenYet) {
            return '<div class="kontingent-banner" data-reason="not_open_yet">' . esc_html__('Opens in', 'kontingent') . ' ' . Outcomes::countdown($why->opensAt, $now) . '</div>';
        }
        if ($why instanceof Paused) {
            return '<div class="kontingent-banner" data-reason="paused">' . esc_html__('Reservations are paused for a moment.', 'kontingent') . '</div>';
        }
        if ($why instanceof Closed) {
            return '<div class="kontingent-banner" data-reason="closed">' . esc_html__('This campaign has ended.', 'kontingent') . '</div>';
        }
        return '';
    }
}
