<?php

declare(strict_types=1);

namespace Kontingent\WordPress;

use Kontingent\Client;
use Kontingent\Exception\KontingentException;

/**
 * `[kontingent_slots ledger="pampanin" template="delivery" products="vanilla-tub,..." count="12"]`:
 * the delivery-slot picker. The next free slots by the server's rules (lead
 * time, cut-off, channel shares), full slots between them greyed out, the
 * products with what is left, and the postal code the delivery-area rule checks.
 * The minimum order and the delivery area are the catalog's rules, judged by
 * the server when the form is posted; the refusal says which one.
 */
final class SlotPicker
{
    public const ACTION = 'kontingent_slot';

    /** @param array<string, string>|string $atts */
    public static function shortcode($atts): string
    {
        $atts = shortcode_atts(['ledger' => '', 'template' => 'delivery', 'products' => '', 'count' => '12', 'max' => '8'], is_array($atts) ? $atts : [], 'kontingent_slots');
        $ledger = sanitize_key($atts['ledger']) ?: Settings::get()['ledger'];
        $template = sanitize_text_field($atts['template']);
        $client = Connection::client($ledger, reads: true);
        if ($client === null) {
            return Page::notConfigured();
        }
        try {
            $free = $client->slots($template, 'web', max(1, min(100, (int) $atts['count'])));
            $snapshot = $client->availability();
            $now = $client->now();
        } catch (KontingentException $e) {
            return Page::unavailable($ledger, $e, __('Delivery slots cannot be shown right now. Please try again in a moment.', 'kontingent'));
        }
        $offers = Availability::offers($snapshot);
        $products = array_filter(array_map('trim', explode(',', $atts['products'])));
        $html = Page::head($ledger, 'kontingent-slots', $now, [], $final);
        if ($final) {
            return $html . '</div>';
        }
        $html .= '<form method="post" class="kontingent-form" action="' . esc_url(admin_url('admin-post.php')) . '">';
        // The template and the products are signed into the form: nothing else can be posted.
        $html .= FormPost::hiddenFields(self::ACTION, $ledger, $template . ';' . implode(',', $products));
        $html .= '<fieldset class="kontingent-products"><legend>' . esc_html__('Your order', 'kontingent') . '</legend>';
        foreach ($offers as $o) {
            if (!in_array($o['name'], $products, true)) {
                continue;
            }
            // At most `max` of a product per order; what is left is the server's to judge.
            $html .= sprintf(
                '<p class="kontingent-offer%4$s" data-offer="%1$s"><label>%2$s <input type="number" name="products[%1$s]" min="0" max="%3$d" value="0" /></label> %5$s</p>',
                esc_attr($o['name']),
                esc_html(Outcomes::label($o['name'], $ledger)),
                max(1, min(100, (int) $atts['max'])),
                $o['left'] > 0 ? '' : ' kontingent-full',
                Page::left($o['left'])
            );
        }
        $html .= '</fieldset><fieldset class="kontingent-slot-list"><legend>' . esc_html__('Delivery slot', 'kontingent') . '</legend>';
        $html .= $free === [] ? '<p>' . esc_html__('No delivery slot is free at the moment.', 'kontingent') . '</p>' : self::slotChoices($free, $offers, $template, $ledger);
        $html .= '</fieldset>';
        $html .= '<p><label>' . esc_html__('Postal code', 'kontingent') . ' <input type="text" name="postal_code" required inputmode="numeric" maxlength="10" autocomplete="postal-code" /></label></p>';
        $html .= Page::emailField();
        $html .= '<p><button type="submit">' . esc_html__('Order', 'kontingent') . '</button></p>';
        return $html . '</form></div>';
    }

    /**
     * The free slots, and greyed out among them the slots of the same template
     * that are full (from the snapshot: names sort by local start time).
     *
     * @param list<array<string, mixed>> $free
     * @param list<array{name: string, pool: string, left: int}> $offers
     */
    private static function slotChoices(array $free, array $offers, string $template, string $ledger): string
    {
        $freeNames = array_map(static fn (array $s): string => (string) $s['offer'], $free);
        $first = min($freeNames);
        $last = max($freeNames);
        $shown = [];
        foreach ($offers as $o) {
            if (str_starts_with($o['name'], $template . '@') && strcmp($o['name'], $first) >= 0 && strcmp($o['name'], $last) <= 0) {
                $shown[$o['name']] = $o;
            }
        }
        foreach ($free as $s) {
            $shown[(string) $s['offer']] = ['name' => (string) $s['offer'], 'pool' => '', 'left' => (int) $s['available']];
        }
        ksort($shown, SORT_STRING);
        $html = '';
        foreach ($shown as $name => $o) {
            if (!in_array($name, $freeNames, true)) {
                // Not bookable now, whatever the pool's counters say (the script leaves it so).
                $o['left'] = 0;
                $o['bookable'] = false;
            }
            $when = str_replace('T', ' ', substr($name, strlen($template) + 1));
            $html .= Page::choice('slot', $o, $ledger, $when);
        }
        return $html;
    }

    public static function handle(): void
    {
        $slot = FormPost::posted('slot');
        $postal = FormPost::posted('postal_code');
        $lines = [];
        $raw = isset($_POST['products']) && is_array($_POST['products']) ? wp_unslash($_POST['products']) : [];
        foreach ($raw as $offer => $qty) {
            $qty = (int) $qty;
            if ($qty > 0 && $qty <= 100) {
                $lines[] = [sanitize_text_field((string) $offer), $qty];
            }
        }
        FormPost::handle(
            self::ACTION,
            ['products[]', 'slot', 'postal_code', 'email'],
            static function (string $scope) use ($slot, $postal, $lines): ?string {
                [$template, $products] = array_pad(explode(';', $scope, 2), 2, '');
                $allowed = explode(',', $products);
                if ($lines === [] || array_diff(array_column($lines, 0), $allowed) !== []) {
                    return __('Please choose what you would like delivered.', 'kontingent');
                }
                if ($slot === '' || !str_starts_with($slot, $template . '@')) {
                    return __('Please choose a delivery slot.', 'kontingent');
                }
                return $postal === '' ? __('Please give your postal code.', 'kontingent') : null;
            },
            static fn (Client $c, string $id, string $customer) => $c->reserve(
                $id,
                $customer,
                array_merge($lines, [[$slot, 1]]),
                ['channel' => 'web', 'confirm' => true, 'attributes' => ['postal_code' => $postal]]
            )
        );
    }
}
