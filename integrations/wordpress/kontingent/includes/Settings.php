<?php

declare(strict_types=1);

namespace Kontingent\WordPress;

use Kontingent\Exception\AuthException;
use Kontingent\Exception\KontingentException;

/**
 * Settings → Kontingent (Settings API): the server, its keys, the ledger, and a
 * connection check.
 */
final class Settings
{
    public const OPTION = 'kontingent_settings';
    private const PAGE = 'kontingent-settings';

    /** @return array{server_url: string, public_url: string, client_key: string, operator_key: string, ledger: string} */
    public static function get(): array
    {
        $saved = get_option(self::OPTION, []);
        $defaults = ['server_url' => '', 'public_url' => '', 'client_key' => '', 'operator_key' => '', 'ledger' => ''];
        $s = array_merge($defaults, is_array($saved) ? array_intersect_key($saved, $defaults) : []);
        return array_map('strval', $s);
    }

    public static function boot(): void
    {
        add_action('admin_init', [self::class, 'register']);
        add_action('admin_menu', static function (): void {
            add_options_page(__('Kontingent', 'kontingent'), __('Kontingent', 'kontingent'), 'manage_options', self::PAGE, [self::class, 'render']);
        });
        add_action('admin_post_kontingent_check', [self::class, 'check']);
    }

    public static function register(): void
    {
        register_setting(self::PAGE, self::OPTION, ['type' => 'array', 'sanitize_callback' => [self::class, 'sanitize'], 'default' => []]);
        add_settings_section('kontingent_server', __('Server', 'kontingent'), static function (): void {
            echo '<p>' . esc_html__('The kontingent server this site reserves on (kontingent serve). The client key may reserve; the operator key may also pause and resume, and is needed only for the campaign page.', 'kontingent') . '</p>';
        }, self::PAGE);
        $fields = [
            'server_url' => [__('Server URL', 'kontingent'), 'url', __('As this site reaches it, e.g. http://127.0.0.1:7070.', 'kontingent')],
            'public_url' => [__('Public URL', 'kontingent'), 'url', __('As visitors\' browsers reach it, for live availability and the console (optional; without it pages ask this site every few seconds).', 'kontingent')],
            'client_key' => [__('Client key', 'kontingent'), 'password', ''],
            'operator_key' => [__('Operator key', 'kontingent'), 'password', __('Optional: for pause and resume on the campaign page.', 'kontingent')],
            'ledger' => [__('Ledger', 'kontingent'), 'text', __('The campaign\'s ledger name on the server (a shortcode may name another with ledger="...").', 'kontingent')],
        ];
        foreach ($fields as $key => [$label, $type, $help]) {
            add_settings_field("kontingent_{$key}", $label, static function () use ($key, $type, $help): void {
                $value = self::get()[$key];
                // A key is never written back into the page: empty keeps the saved one.
                $secret = $type === 'password';
                printf(
                    '<input type="%1$s" id="kontingent_%2$s" name="%3$s[%2$s]" value="%4$s" placeholder="%5$s" class="regular-text" autocomplete="off" />',
                    esc_attr($type),
                    esc_attr($key),
                    esc_attr(self::OPTION),
                    $secret ? '' : esc_attr($value),
                    $secret && $value !== '' ? esc_attr__('saved (leave empty to keep it)', 'kontingent') : ''
                );
                if ($help !== '') {
                    echo '<p class="description">' . esc_html($help) . '</p>';
                }
            }, self::PAGE, 'kontingent_server', ['label_for' => "kontingent_{$key}"]);
        }
    }

    /** @param mixed $input */
    public static function sanitize($input): array
    {
        // options.php has unslashed the input already.
        $in = is_array($input) ? $input : [];
        $out = [
            'server_url' => esc_url_raw(trim((string) ($in['server_url'] ?? '')), ['http', 'https']),
            'public_url' => esc_url_raw(trim((string) ($in['public_url'] ?? '')), ['http', 'https']),
            'client_key' => trim((string) ($in['client_key'] ?? '')),
            'operator_key' => trim((string) ($in['operator_key'] ?? '')),
            'ledger' => sanitize_key((string) ($in['ledger'] ?? '')),
        ];
        foreach (['server_url', 'public_url'] as $k) {
            $out[$k] = untrailingslashit($out[$k]);
        }
        foreach (['client_key', 'operator_key'] as $k) {
            // A key is printable ASCII without spaces, as the server takes it
            // (at least 16 characters); anything else is refused, not mangled.
            if ($out[$k] !== '' && !preg_match('/^[\x21-\x7e]{16,256}$/', $out[$k])) {
                add_settings_error(self::OPTION, "kontingent_{$k}", __('A key is 16 to 256 printable characters without spaces; the saved one is kept.', 'kontingent'));
                $out[$k] = '';
            }
            if ($out[$k] === '') {
                $out[$k] = self::get()[$k];
            }
        }
        return $out;
    }

    public static function render(): void
    {
        if (!current_user_can('manage_options')) {
            return;
        }
        echo '<div class="wrap"><h1>' . esc_html__('Kontingent', 'kontingent') . '</h1>';
        $check = get_transient('kontingent_check_' . get_current_user_id());
        if (is_array($check)) {
            delete_transient('kontingent_check_' . get_current_user_id());
            printf('<div class="notice notice-%1$s" id="kontingent-check"><p>%2$s</p></div>', $check['ok'] ? 'success' : 'error', esc_html($check['message']));
        }
        echo '<form action="options.php" method="post">';
        settings_fields(self::PAGE);
        do_settings_sections(self::PAGE);
        submit_button();
        echo '</form>';
        echo '<form action="' . esc_url(admin_url('admin-post.php')) . '" method="post">';
        echo '<input type="hidden" name="action" value="kontingent_check" />';
        wp_nonce_field('kontingent_check');
        submit_button(__('Check the connection', 'kontingent'), 'secondary', 'submit', false);
        echo '</form></div>';
    }

    /** The connection check: the server answers, the client key is good, the ledger exists. */
    public static function check(): void
    {
        if (!current_user_can('manage_options')) {
            wp_die(esc_html__('You may not do this.', 'kontingent'), 403);
        }
        check_admin_referer('kontingent_check');
        $client = Connection::client();
        if ($client === null) {
            $result = ['ok' => false, 'message' => __('Not configured yet: the server URL, the client key and the ledger are needed.', 'kontingent')];
        } else {
            try {
                $client->health();
                $snapshot = $client->availability();
                // The reservation route needs the client key: an id no reservation has answers null.
                $client->reservation(1);
                $result = ['ok' => true, 'message' => sprintf(
                    /* translators: 1: ledger name, 2: number of offers */
                    __('Connected: ledger %1$s answers, with %2$d offers, and the client key is accepted.', 'kontingent'),
                    Settings::get()['ledger'],
                    count($snapshot['offers'] ?? [])
                )];
            } catch (AuthException $e) {
                $result = ['ok' => false, 'message' => __('The server refuses the client key.', 'kontingent') . ' (' . $e->errorCode . ')'];
            } catch (KontingentException $e) {
                $result = ['ok' => false, 'message' => sprintf(
                    /* translators: 1: error code, 2: message */
                    __('The server cannot be used: %1$s: %2$s', 'kontingent'),
                    $e->errorCode,
                    $e->getMessage()
                )];
            }
        }
        set_transient('kontingent_check_' . get_current_user_id(), $result, MINUTE_IN_SECONDS);
        wp_safe_redirect(admin_url('options-general.php?page=' . self::PAGE));
        exit;
    }
}
