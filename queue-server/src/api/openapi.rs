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
        crate::api::guide::guide_sign_in,
        crate::api::guide::guide_sign_out,
        crate::api::guide::request_print,
        crate::api::guide::print_job,
        crate::api::guide::pending_print_jobs,
        crate::api::guide::print_job_done,
        crate::api::guide::ticket_qr,
        crate::api::remote::remote_setup,
        crate::api::appointments::booking_setup,
        crate::api::appointments::service_slots,
        crate::api::appointments::book_on_page,
        crate::api::appointments::book_for_app,
        crate::api::appointments::get_booking,
        crate::api::appointments::cancel_booking,
        crate::api::appointments::move_booking,
        crate::api::appointments::booking_qr,
        crate::api::remote::take_on_phone,
        crate::api::remote::take_for_app,
        crate::api::remote::check_in_at_kiosk,
        crate::api::remote::check_in_on_phone,
        crate::api::counters::act,
        crate::api::hall::snapshot,
        crate::api::events::stream,
        crate::api::hall::day_stats,
        crate::api::billing::webhooks,
        crate::api::billing::head_office,
        crate::api::devices::heartbeat,
        crate::api::devices::list,
        crate::api::billing::account,
        crate::api::station::me,
        crate::api::station::set_pin,
        crate::api::station::sign_in,
        crate::api::station::sign_out,
        crate::api::station::queue,
        crate::api::staff::list_staff,
        crate::api::staff::add_staff,
        crate::api::staff::set_staff_pin,
        crate::api::staff::disable_staff,
        crate::api::staff::sign_staff_out,
        crate::api::public::ticket,
        crate::api::hall::tls_status,
        crate::api::access::access_records,
        crate::api::ratings::setup,
        crate::api::ratings::rate_at_counter,
        crate::api::ratings::rate_on_phone,
        crate::api::ratings::day_ratings,
        crate::api::ratings::follow_ups,
        crate::api::ratings::update_follow_up,
        crate::api::manager::manager_sign_in,
        crate::api::manager::manager_sign_out,
        crate::api::manager::manager_session,
        crate::api::manager::list_managers,
        crate::api::manager::add_manager,
        crate::api::manager::set_manager_password,
        crate::api::manager::disable_manager,
        crate::api::manager::audit_log,
        crate::api::reports::period_report,
        crate::api::reports::export_report,
        crate::api::reports::kept_reports,
        crate::api::reports::kept_workbook,
        crate::api::today::change_service_today,
        crate::api::today::set_notice,
        crate::api::today::add_closure,
        crate::api::today::closures,
        crate::api::today::lift_closure,
        crate::api::today::clear_notice,
    ),
    components(schemas(
        hall_api::Event,
        hall_api::EventKind,
        hall_api::CounterView,
        hall_api::CounterAction,
        hall_api::CounterAnswer,
        hall_api::ServiceWaiting,
        hall_api::StaffRef,
        hall_api::PauseReason,
        hall_api::EventRating,
        hall_api::DayReportSummary,
    )),
    modifiers(&BearerAuth, &CommonErrors)
)]
pub struct ApiDoc;

/// The answers any operation may give besides its own, documented once
/// here rather than on every handler: a token refused (401) on secured
/// operations, a body too large (413) or too slow (408) where one is taken,
/// and a database that could not save (503, with Retry-After). It also
/// gives every response the description OpenAPI requires.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::Operation;
        use utoipa::openapi::{RefOr, ResponseBuilder, content::ContentBuilder};
        let error = |description: &str| -> RefOr<utoipa::openapi::Response> {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                                "ErrorBody",
                            ))))
                            .build(),
                    )
                    .build(),
            )
        };
        let add = |op: &mut Operation, status: &str, description: &str| {
            op.responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| error(description));
        };
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.delete.as_mut(),
            ];
            for op in ops.into_iter().flatten() {
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                if secured {
                    add(op, "401", "no token, or one the hall does not know");
                    add(op, "403", "the token's role may not do this");
                }
                if op.request_body.is_some() {
                    add(op, "400", "the body is not valid for this operation");
                    add(op, "408", "the body did not arrive in time");
                    add(op, "413", "the body is larger than the server takes");
                }
                if !op.parameters.as_ref().is_none_or(Vec::is_empty) {
                    add(op, "400", "a path or query parameter is not valid");
                }
                add(
                    op,
                    "503",
                    "the hall database could not answer or save; retry after Retry-After seconds",
                );
                // OpenAPI requires a description on every response.
                for (status, response) in op.responses.responses.iter_mut() {
                    if let RefOr::T(r) = response
                        && r.description.is_empty()
                    {
                        r.description = status
                            .parse::<u16>()
                            .ok()
                            .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
                            .and_then(|s| s.canonical_reason())
                            .unwrap_or("the answer")
                            .to_string();
                    }
                }
            }
        }
    }
}

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
