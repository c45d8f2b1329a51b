//! The OpenAPI description, generated from the handlers and wire types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "queue-server", description = "The hall queue API: tickets, counters, the live event stream and statistics."),
    paths(
        crate::api::hall::health,
        crate::api::tickets::issue,
        crate::api::tickets::get,
        crate::api::tickets::cancel,
        crate::api::counters::act,
        crate::api::hall::snapshot,
        crate::api::events::stream,
        crate::api::hall::day_stats,
        crate::api::billing::webhooks,
        crate::api::devices::heartbeat,
        crate::api::devices::list,
        crate::api::billing::account,
        crate::api::station::me,
        crate::api::station::set_pin,
        crate::api::station::sign_in,
        crate::api::station::queue,
        crate::api::public::ticket,
    ),
    components(schemas(hall_api::Event, hall_api::EventKind, hall_api::CounterView)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("the device's token from the hall configuration"))
                    .build(),
            ),
        );
    }
}

pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
