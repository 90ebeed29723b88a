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
        if (is_admin()) {
            Settings::boot();
            CampaignPage::boot();
        }
    }
}
