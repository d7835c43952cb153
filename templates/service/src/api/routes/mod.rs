//! Handlers, one module per resource. A handler only translates HTTP to a service call and
//! back: extract, call, choose the status code.
{% if auth %}
pub mod admin;
{%- endif %}
pub mod notes;
