/*
 * The editor side of the two blocks: a preview rendered by the server (the same
 * code as on the page) and the attributes in the sidebar. No build step: the
 * editor's own globals.
 */
(function (wp) {
  "use strict";
  var el = wp.element.createElement, __ = wp.i18n.__;
  var Inspector = wp.blockEditor.InspectorControls, Panel = wp.components.PanelBody, Text = wp.components.TextControl;
  function block(name, title, fields) {
    wp.blocks.registerBlockType(name, {
      apiVersion: 2,
      title: title,
      category: "widgets",
      icon: "tickets-alt",
      attributes: fields.reduce(function (a, f) { a[f[0]] = { type: "string", default: f[2] || "" }; return a; }, {}),
      edit: function (props) {
        return el("div", wp.blockEditor.useBlockProps(),
          el(Inspector, null, el(Panel, { title: __("Campaign", "kontingent") }, fields.map(function (f) {
            return el(Text, { key: f[0], label: f[1], value: props.attributes[f[0]],
              onChange: function (v) { var o = {}; o[f[0]] = v; props.setAttributes(o); } });
          }))),
          el(wp.serverSideRender, { block: name, attributes: props.attributes }));
      },
      save: function () { return null; },
    });
  }
  block("kontingent/vouchers", __("Kontingent vouchers", "kontingent"), [
    ["ledger", __("Ledger (empty: the settings' one)", "kontingent")],
    ["offers", __("Offers (comma-separated; empty: all)", "kontingent")],
  ]);
  block("kontingent/slots", __("Kontingent delivery slots", "kontingent"), [
    ["ledger", __("Ledger", "kontingent")],
    ["template", __("Slot template", "kontingent"), "delivery"],
    ["products", __("Products (comma-separated offers)", "kontingent")],
  ]);
})(window.wp);
