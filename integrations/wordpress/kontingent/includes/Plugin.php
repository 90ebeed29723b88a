<?php

declare(strict_types=1);

namespace Kontingent\WordPress;

/**
 * Wires the plugin into WordPress. Every rule (what is left, who may have it,
 * when a campaign opens) is the server's: this plugin renders, posts and says
 * what the server answered.
 */
final class Plugin
{
    public static function boot(): void
    {
        add_action('init', static function (): void {
            load_plugin_textdomain('kontingent', false, dirname(plugin_basename(KONTINGENT_PLUGIN_FILE)) . '/languages');
            add_shortcode('kontingent_vouchers', [VoucherForm::class, 'shortcode']);
            add_shortcode('kontingent_slots', [SlotPicker::class, 'shortcode']);
            wp_register_script('kontingent', plugins_url('assets/kontingent.js', KONTINGENT_PLUGIN_FILE), [], KONTINGENT_VERSION, true);
            wp_register_style('kontingent', plugins_url('assets/kontingent.css', KONTINGENT_PLUGIN_FILE), [], KONTINGENT_VERSION);
            Blocks::register();
        });
        // The forms post to admin-post.php, for visitors and logged-in users alike.
        foreach (['kontingent_voucher' => [VoucherForm::class, 'handle'], 'kontingent_slot' => [SlotPicker::class, 'handle']] as $action => $handler) {
            add_action("admin_post_nopriv_{$action}", $handler);
            add_action("admin_post_{$action}", $handler);
        }
        add_action('rest_api_init', [Availability::class, 'registerRoute']);
        // A page with a form carries a nonce and a request id: no cache (a proxy's or
        // a CDN's) may keep it. Said in the headers, before the page is rendered.
        add_action('template_redirect', static function (): void {
            $post = get_queried_object();
            if ($post instanceof \WP_Post && (has_shortcode($post->post_content, 'kontingent_vouchers') || has_shortcode($post->post_content, 'kontingent_slots')
                || has_block('kontingent/vouchers', $post) || has_block('kontingent/slots', $post))) {
                nocache_headers();
            }
        });
        if (is_admin()) {
            Settings::boot();
            CampaignPage::boot();
        }
    }
}
