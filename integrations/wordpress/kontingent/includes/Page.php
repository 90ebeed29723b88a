<?php

declare(strict_types=1);

namespace Kontingent\WordPress;

/** The parts of a form's markup both shortcodes share. */
final class Page
{
    public static function enqueue(): void
    {
        // A page with a form carries a nonce and a request id: page caches that
        // honour the convention leave it alone (the script mints a fresh id anyway).
        if (!defined('DONOTCACHEPAGE')) {
            define('DONOTCACHEPAGE', true);
        }
        wp_enqueue_script('kontingent');
        wp_enqueue_style('kontingent');
    }

    /** What a shortcode shows on a site with no server set: a hint for an admin, nothing for a visitor. */
    public static function notConfigured(): string
    {
        return current_user_can('manage_options')
            ? '<p class="kontingent-outcome">' . esc_html__('Kontingent is not configured yet (Settings → Kontingent).', 'kontingent') . '</p>'
            : '';
    }

    /**
     * The form's box opened, with the outcome of the post this page view is the
     * result of. `$final` is set when that post got no answer: the box then shows
     * only its "send again" (the same request id), since a fresh form beside it
     * could reserve twice; the caller closes the box and adds nothing.
     *
     * @param list<array{name: string, pool: string, left: int}> $offers what is still available, for a refusal's message
     */
    public static function head(string $ledger, string $class, int $now, array $offers, ?bool &$final): string
    {
        self::enqueue();
        $html = self::open($ledger, $class);
        $result = FormPost::result($ledger);
        $final = false;
        if ($result !== null) {
            $html .= Outcomes::render($result, $now, $offers, $ledger);
            $final = ($result['status'] ?? '') === 'error';
        }
        return $html;
    }

    /**
     * The form's box: where its script refreshes what is left (this site's REST
     * route) and, when the server is public, the events it listens to.
     */
    public static function open(string $ledger, string $class): string
    {
        $public = Settings::get()['public_url'];
        return sprintf(
            '<div class="kontingent %1$s" id="kontingent-%2$s" data-ledger="%2$s" data-availability="%3$s" data-events="%4$s">',
            esc_attr($class),
            esc_attr($ledger),
            esc_url(add_query_arg(['ledger' => $ledger, 'sig' => Availability::signature($ledger)], rest_url('kontingent/v1/availability'))),
            $public === '' ? '' : esc_url($public . '/v1/ledgers/' . rawurlencode($ledger) . '/events')
        );
    }

    /**
     * One radio choice with what is left of it; none left greys it out.
     *
     * @param array{name: string, pool: string, left: int} $o
     */
    public static function choice(string $field, array $o, string $ledger, string $label = ''): string
    {
        $label = $label !== '' ? $label : Outcomes::label($o['name'], $ledger);
        return sprintf(
            '<label class="kontingent-offer%5$s" data-offer="%1$s"%7$s><input type="radio" name="%2$s" value="%1$s" required%4$s /> %3$s %6$s</label>',
            esc_attr($o['name']),
            esc_attr($field),
            esc_html($label),
            $o['left'] > 0 ? '' : ' disabled',
            $o['left'] > 0 ? '' : ' kontingent-full',
            self::left($o['left']),
            ($o['bookable'] ?? true) ? '' : ' data-bookable="0"'
        );
    }

    /** "(N left)", translatable with its plural; the script changes only the number. */
    public static function left(int $n): string
    {
        return '<span class="kontingent-left-text">' . sprintf(
            /* translators: %s: a number of units */
            esc_html(_n('(%s left)', '(%s left)', $n, 'kontingent')),
            '<span class="kontingent-left">' . $n . '</span>'
        ) . '</span>';
    }

    /**
     * What a form's place shows while the server does not answer: the outcome of
     * the post this page view is the result of, if any (its "send again" above
     * all), and that the form cannot be shown now.
     */
    public static function unavailable(string $ledger, \Kontingent\Exception\KontingentException $e, string $message): string
    {
        self::enqueue();
        $result = FormPost::result($ledger);
        $html = sprintf('<div class="kontingent" id="kontingent-%s">', esc_attr($ledger));
        if ($result !== null) {
            $html .= Outcomes::render($result, 0, [], $ledger);
        }
        return $html . sprintf(
            '<div class="kontingent-unavailable kontingent-banner" data-reason="%1$s">%2$s</div></div>',
            esc_attr($e->errorCode),
            esc_html($message)
        );
    }

    public static function emailField(): string
    {
        return '<p><label>' . esc_html__('Your e-mail address', 'kontingent')
            . ' <input type="email" name="email" required autocomplete="email" /></label></p>';
    }
}
