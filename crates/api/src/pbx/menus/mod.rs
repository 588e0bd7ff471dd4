//! IVR menus and their actions, uploaded media, gateways (params,
//! variables, control, status), blocks and number translation tables.

mod blocks;
mod common;
mod gateway_control;
mod gateway_parts;
mod gateways;
mod ivr_actions;
mod ivrs;
mod media;
mod nested;
mod sounds;
mod translation;
mod wav;

use crate::routes::Api;

/// Their routes.
pub fn routes() -> Api {
    Api::new()
        .merge(blocks::routes())
        .merge(ivrs::routes())
        .merge(ivr_actions::routes())
        .merge(media::routes())
        .merge(gateways::routes())
        .merge(gateway_parts::routes())
        .merge(gateway_control::routes())
        .merge(translation::routes())
}
