<?php
/**
 * Uninstall: the plugin's settings and the outcomes it kept for result pages.
 * The campaign itself lives in the kontingent server's journal and stays.
 */

declare(strict_types=1);

defined('WP_UNINSTALL_PLUGIN') || exit;

delete_option('kontingent_settings');

global $wpdb;
$like = $wpdb->esc_like('_transient_kontingent_') . '%';
$timeouts = $wpdb->esc_like('_transient_timeout_kontingent_') . '%';
$wpdb->query($wpdb->prepare("DELETE FROM {$wpdb->options} WHERE option_name LIKE %s OR option_name LIKE %s", $like, $timeouts));
