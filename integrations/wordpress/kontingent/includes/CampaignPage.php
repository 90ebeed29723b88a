<?php

declare(strict_types=1);

namespace Kontingent\WordPress;

use Kontingent\Exception\KontingentException;

/**
 * The campaign page (menu "Kontingent", `manage_options`): pause and resume,
 * the pools as they stand, and the server's operator console embedded.
 */
final class CampaignPage
{
    private const PAGE = 'kontingent-campaign';

    public static function boot(): void
    {
        add_action('admin_menu', static function (): void {
            add_menu_page(__('Kontingent campaign', 'kontingent'), __('Kontingent', 'kontingent'), 'manage_options', self::PAGE, [self::class, 'render'], 'dashicons-tickets-alt', 58);
        });
        add_action('admin_post_kontingent_pause', static fn () => self::operate('pause'));
        add_action('admin_post_kontingent_resume', static fn () => self::operate('resume'));
    }

    public static function render(): void
    {
        if (!current_user_can('manage_options')) {
            return;
        }
        $s = Settings::get();
        echo '<div class="wrap"><h1>' . esc_html__('Kontingent campaign', 'kontingent') . '</h1>';
        $notice = get_transient('kontingent_operated_' . get_current_user_id());
        if (is_array($notice)) {
            delete_transient('kontingent_operated_' . get_current_user_id());
            printf('<div class="notice notice-%1$s" id="kontingent-operated" data-done="%2$s"><p>%3$s</p></div>', $notice['ok'] ? 'success' : 'error', esc_attr($notice['done']), esc_html($notice['message']));
        }
        $client = Connection::client();
        if ($client === null) {
            echo '<p>' . esc_html__('Configure the server first (Settings → Kontingent).', 'kontingent') . '</p></div>';
            return;
        }
        try {
            $snapshot = $client->availability();
        } catch (KontingentException $e) {
            echo '<div class="notice notice-error"><p>' . esc_html(sprintf(
                /* translators: %s: error code */
                __('The server does not answer (%s).', 'kontingent'),
                $e->errorCode
            )) . '</p></div></div>';
            return;
        }
        $paused = (bool) ($snapshot['paused'] ?? false);
        printf(
            '<p id="kontingent-state" data-paused="%1$s"><strong>%2$s</strong> %3$s</p>',
            $paused ? 'true' : 'false',
            esc_html($s['ledger']),
            $paused ? esc_html__('is paused: every reservation is refused "paused".', 'kontingent') : esc_html__('takes reservations.', 'kontingent')
        );
        if ($s['operator_key'] === '') {
            echo '<p>' . esc_html__('Pause and resume need the operator key (Settings → Kontingent).', 'kontingent') . '</p>';
        } else {
            echo '<form method="post" action="' . esc_url(admin_url('admin-post.php')) . '" style="display:inline">';
            wp_nonce_field('kontingent_operate');
            printf('<input type="hidden" name="action" value="%s" />', $paused ? 'kontingent_resume' : 'kontingent_pause');
            submit_button($paused ? __('Resume', 'kontingent') : __('Pause', 'kontingent'), $paused ? 'primary' : 'delete', 'kontingent-operate', false);
            echo '</form>';
        }
        echo '<table class="widefat striped" style="max-width:48em;margin-top:1em"><thead><tr><th>' . esc_html__('Pool', 'kontingent') . '</th><th>' . esc_html__('Capacity', 'kontingent') . '</th><th>' . esc_html__('Held', 'kontingent') . '</th><th>' . esc_html__('Confirmed', 'kontingent') . '</th></tr></thead><tbody>';
        foreach ($snapshot['pools'] ?? [] as $p) {
            printf(
                '<tr data-pool="%1$s"><td>%1$s</td><td>%2$d</td><td>%3$d</td><td>%4$d</td></tr>',
                esc_html((string) ($p['name'] ?? '')),
                (int) ($p['capacity'] ?? 0),
                (int) ($p['held'] ?? 0),
                (int) ($p['confirmed'] ?? 0)
            );
        }
        echo '</tbody></table>';
        echo '<h2>' . esc_html__('Operator console', 'kontingent') . '</h2>';
        if ($s['public_url'] === '') {
            echo '<p>' . esc_html__('Set the public URL (Settings → Kontingent) to show the live console here.', 'kontingent') . '</p>';
        } else {
            printf(
                '<p class="description">%1$s <code>--console-frame-ancestor %2$s</code></p><iframe id="kontingent-console" src="%3$s" title="%4$s" style="width:100%%;height:80vh;border:1px solid #c3c4c7;background:#fff"></iframe>',
                esc_html__('The console asks for the operator key itself and keeps it in this tab only. The server shows it here when started with', 'kontingent'),
                esc_html(self::origin(home_url())),
                esc_url($s['public_url'] . '/console'),
                esc_attr__('kontingent operator console', 'kontingent')
            );
        }
        echo '</div>';
    }

    /** Pause or resume with the operator key, then back to the page with what happened. */
    private static function operate(string $verb): void
    {
        if (!current_user_can('manage_options')) {
            wp_die(esc_html__('You may not do this.', 'kontingent'), '', ['response' => 403]);
        }
        check_admin_referer('kontingent_operate');
        $client = Connection::client('', true);
        try {
            if ($client === null) {
                throw new KontingentException('not_configured', __('the operator key is not set', 'kontingent'));
            }
            $verb === 'pause' ? $client->pause() : $client->resume();
            $notice = ['ok' => true, 'done' => $verb, 'message' => $verb === 'pause'
                ? __('Paused: every reservation from now on is refused "paused".', 'kontingent')
                : __('Resumed: reservations are taken again.', 'kontingent')];
        } catch (KontingentException $e) {
            $notice = ['ok' => false, 'done' => '', 'message' => sprintf(
                /* translators: 1: error code, 2: message */
                __('The server refused: %1$s: %2$s', 'kontingent'),
                $e->errorCode,
                $e->getMessage()
            )];
        }
        set_transient('kontingent_operated_' . get_current_user_id(), $notice, MINUTE_IN_SECONDS);
        wp_safe_redirect(admin_url('admin.php?page=' . self::PAGE));
        exit;
    }

    /** `scheme://host[:port]` of a URL: what the server's flag takes. */
    private static function origin(string $url): string
    {
        $p = wp_parse_url($url);
        return ($p['scheme'] ?? 'https') . '://' . ($p['host'] ?? '') . (isset($p['port']) ? ':' . $p['port'] : '');
    }
}
