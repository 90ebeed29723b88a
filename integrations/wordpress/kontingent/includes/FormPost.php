<?php

declare(strict_types=1);

namespace Kontingent\WordPress;

use Kontingent\Client;
use Kontingent\Exception\KontingentException;

/**
 * What every form of the plugin shares: a request id minted when the form is
 * rendered, the post that reserves with it, and the result page.
 *
 * The request id makes the post safe to repeat: a double submit, a reload of
 * the post, or a retry after a timeout asks the server again with the same id,
 * and the server answers the first outcome. The outcome is kept for a day
 * under the id, so that the result page (post, redirect, get) shows it again
 * on a reload without asking.
 *
 * The confirmation e-mail is not sent here: a form handler can crash or lose
 * its answer between the reservation and the mail, and then either skip the
 * mail or send it twice. The server's notification consumer sends it, once.
 */
final class FormPost
{
    /** The hidden fields of a form that posts `$action`. */
    public static function hiddenFields(string $action, string $ledger): string
    {
        $html = sprintf('<input type="hidden" name="action" value="%s" />', esc_attr($action));
        $html .= wp_nonce_field($action, 'kontingent_nonce', false, false);
        $html .= sprintf('<input type="hidden" name="request_id" value="%s" />', esc_attr(Client::newRequestId()));
        $html .= sprintf('<input type="hidden" name="ledger" value="%s" />', esc_attr($ledger));
        $html .= sprintf('<input type="hidden" name="return" value="%s" />', esc_attr((string) get_permalink()));
        return $html;
    }

    /**
     * Handle a post: check it, then `$reserve` (given the client, the request id
     * and the customer) unless `$invalid` says why not; keep the outcome; redirect
     * to the result page.
     *
     * @param callable(): ?string $invalid
     * @param callable(Client, string, string): \Kontingent\Outcome\Outcome $reserve
     */
    public static function handle(string $action, callable $invalid, callable $reserve): void
    {
        $nonce = isset($_POST['kontingent_nonce']) ? sanitize_text_field(wp_unslash($_POST['kontingent_nonce'])) : '';
        if (!wp_verify_nonce($nonce, $action)) {
            wp_die(esc_html__('This form has expired. Please reload the page and send it again.', 'kontingent'), '', ['response' => 403]);
        }
        $requestId = isset($_POST['request_id']) ? sanitize_text_field(wp_unslash($_POST['request_id'])) : '';
        $ledger = isset($_POST['ledger']) ? sanitize_key(wp_unslash($_POST['ledger'])) : '';
        $return = isset($_POST['return']) ? esc_url_raw(wp_unslash($_POST['return'])) : '';
        $return = wp_validate_redirect($return, home_url('/'));
        if (!preg_match('/^[0-9a-f]{32}$/', $requestId) || !preg_match(Connection::LEDGER_PATTERN, $ledger)) {
            wp_die(esc_html__('This form is not complete. Please reload the page.', 'kontingent'), '', ['response' => 400]);
        }
        $email = isset($_POST['email']) ? sanitize_email(wp_unslash($_POST['email'])) : '';
        $why = is_email($email) ? $invalid() : __('Please give your e-mail address: the confirmation goes to it.', 'kontingent');
        if ($why !== null) {
            $outcome = ['status' => 'invalid', 'message' => $why];
        } else {
            $client = Connection::client($ledger);
            try {
                if ($client === null) {
                    throw new KontingentException('not_configured', 'the plugin is not configured');
                }
                // The customer is the e-mail address: the per-customer limits count by
                // it, and the server's mailer writes to it.
                $outcome = Outcomes::toArray($reserve($client, $requestId, strtolower($email)));
            } catch (KontingentException $e) {
                // The answer is not known (the server may have reserved and the
                // answer been lost): the result page offers to send the very same
                // post again, request id included, which answers the first outcome
                // if there was one. A fresh form would mint a new id and could
                // reserve twice.
                $outcome = ['status' => 'error', 'code' => $e->errorCode, 'retry' => ['action' => $action] + self::postedFields()];
            }
        }
        set_transient(Outcomes::key($requestId), $outcome, $outcome['status'] === 'error' ? HOUR_IN_SECONDS : DAY_IN_SECONDS);
        wp_safe_redirect(add_query_arg('kontingent', $requestId, $return) . '#kontingent-' . $ledger, 303);
        exit;
    }

    /** The stored outcome the result page shows, if this page view is one. */
    public static function result(): ?array
    {
        $id = isset($_GET['kontingent']) ? sanitize_text_field(wp_unslash($_GET['kontingent'])) : '';
        if (!preg_match('/^[0-9a-f]{32}$/', $id)) {
            return null;
        }
        $o = get_transient(Outcomes::key($id));
        return is_array($o) ? $o : null;
    }

    /**
     * The post's own fields (not the nonce), sanitised, for sending it again:
     * text fields and one level of arrays (`products[vanilla-tub]`), at most 64.
     *
     * @return array<string, string>
     */
    private static function postedFields(): array
    {
        $fields = [];
        foreach (wp_unslash($_POST) as $name => $value) {
            $name = sanitize_text_field((string) $name);
            if (in_array($name, ['action', 'kontingent_nonce', '_wp_http_referer'], true)) {
                continue;
            }
            foreach (is_array($value) ? $value : ['' => $value] as $sub => $v) {
                if (is_scalar($v) && count($fields) < 64) {
                    $key = $sub === '' ? $name : $name . '[' . sanitize_text_field((string) $sub) . ']';
                    $fields[$key] = sanitize_text_field((string) $v);
                }
            }
        }
        return $fields;
    }

    /** A form that sends a post again as it was (the same request id), with a fresh nonce. */
    public static function retryForm(array $retry): string
    {
        $action = (string) ($retry['action'] ?? '');
        if (!in_array($action, [VoucherForm::ACTION, SlotPicker::ACTION], true)) {
            return '';
        }
        $html = '<form method="post" class="kontingent-retry" action="' . esc_url(admin_url('admin-post.php')) . '">';
        $html .= sprintf('<input type="hidden" name="action" value="%s" />', esc_attr($action));
        $html .= wp_nonce_field($action, 'kontingent_nonce', false, false);
        foreach ($retry as $name => $value) {
            if ($name !== 'action') {
                $html .= sprintf('<input type="hidden" name="%s" value="%s" />', esc_attr((string) $name), esc_attr((string) $value));
            }
        }
        return $html . '<button type="submit">' . esc_html__('Send again', 'kontingent') . '</button></form>';
    }

    /** A posted text field, sanitised; empty when absent. */
    public static function posted(string $field): string
    {
        return isset($_POST[$field]) ? sanitize_text_field(wp_unslash($_POST[$field])) : '';
    }
}
