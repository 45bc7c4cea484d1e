//! The live dashboard at `GET /`: one page that polls `/api/diagnostics` every second and
//! charts Allocated (live heap), Resident (RSS) and the allocator's reclaim events over the
//! last five minutes, with Collect and Reset buttons and the list of pattern endpoints.
//! Below the measured chart, in its own dashed panel titled "modelled .NET GC (server) — a
//! model, not a measurement", the modelled .NET GC lens (`--gc-model`, the diagnostics'
//! `modelled_gc`): hollow gen0/gen1/gen2 triangles and a dashed managed-heap line on their
//! own axis; with `--gc-model none` the panel says the lens is off and draws nothing.
//!
//! Everything the page needs is embedded in the binary (`assets/dashboard/`), so it works
//! offline and never asks a CDN: the HTML is served with a Content-Security-Policy that
//! allows this origin only. The chart library is uPlot 1.6.32 (MIT, ~50 KB minified,
//! no dependencies), vendored unmodified from its npm package under
//! `assets/dashboard/vendor/` so that `cargo build` never needs npm or the network.
//!
//! `GET /api/endpoints` lists the pattern endpoints from the built-in scenario files, each
//! with an example path whose placeholders are filled with the scenario's defaults
//! (e.g. `/api/loh/85000`), so the page's links and the scenario files cannot drift apart.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::state::SharedState;
use crate::scenario::{self, Scenario};

/// The page's policy: scripts, styles, fetches and images from this origin only (so no
/// CDN and no inline code), nothing may frame it.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/// One embedded file and the path it is served at.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

/// Every file of the dashboard. `index.html` refers to these paths; a unit test checks
/// that every local reference in the page is served.
const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../../assets/dashboard/index.html"),
    },
    Asset {
        path: "/dashboard/dashboard.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/dashboard/dashboard.js"),
    },
    Asset {
        path: "/dashboard/dashboard.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../assets/dashboard/dashboard.css"),
    },
    Asset {
        path: "/dashboard/favicon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../../assets/dashboard/favicon.svg"),
    },
    // Browsers ask for /favicon.ico on pages that name no icon, such as the plain-text
    // answers the endpoint links open; serving it keeps those out of the 404 counts.
    Asset {
        path: "/favicon.ico",
        content_type: "image/svg+xml",
        body: include_str!("../../assets/dashboard/favicon.svg"),
    },
    Asset {
        path: "/dashboard/uPlot.iife.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/dashboard/vendor/uPlot.iife.min.js"),
    },
    Asset {
        path: "/dashboard/uPlot.min.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../assets/dashboard/vendor/uPlot.min.css"),
    },
    Asset {
        path: "/dashboard/uPlot.LICENSE",
        content_type: "text/plain; charset=utf-8",
        body: include_str!("../../assets/dashboard/vendor/uPlot.LICENSE"),
    },
];

/// One pattern endpoint as the dashboard lists it (`GET /api/endpoints`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Endpoint {
    /// The scenario's name, e.g. `loh`.
    pub(crate) name: String,
    /// One line on what each request does.
    pub(crate) description: String,
    /// Where the pattern comes from (article section or post-mortem), if the file says.
    pub(crate) origin: Option<String>,
    /// The path with its placeholders, e.g. `/api/loh/{size}` (the key of the endpoint's
    /// request count in `/api/diagnostics`).
    pub(crate) route: String,
    /// The path with every placeholder filled with its default, e.g. `/api/loh/85000`.
    pub(crate) example: String,
}

impl Endpoint {
    fn from_scenario(scenario: &Scenario) -> Endpoint {
        // Resolving with no flags only fills defaults; it fails only for flags that name a
        // missing parameter, and there are none, so the template is a fallback never taken.
        let example = scenario::resolve(scenario, None, &[])
            .map(|request| request.path)
            .unwrap_or_else(|_| scenario.path.clone());
        Endpoint {
            name: scenario.name.clone(),
            description: scenario.description.clone(),
            origin: scenario.origin.clone(),
            route: scenario.path.clone(),
            example,
        }
    }
}

/// The pattern endpoints of the built-in scenarios, in catalog order.
pub(crate) fn endpoints() -> Vec<Endpoint> {
    scenario::builtin()
        .iter()
        .map(Endpoint::from_scenario)
        .collect()
}

/// `GET /` (the page), `GET /dashboard/*` (its files) and `GET /api/endpoints`.
pub(crate) fn routes() -> Router<SharedState> {
    let router = Router::new().route("/api/endpoints", get(|| async { Json(endpoints()) }));
    ASSETS.iter().fold(router, |router, asset| {
        router.route(asset.path, get(move || async move { serve_asset(asset) }))
    })
}

fn serve_asset(asset: &'static Asset) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, asset.content_type),
            // The files change only with the binary; revalidating costs one small request.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        asset.body,
    )
        .into_response();
    if asset.content_type.starts_with("text/html") {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::test_support::{send_with_headers, state};
    use axum::http::StatusCode;

    async fn get_path(path: &str) -> (StatusCode, String, String) {
        let (status, headers, body) = send_with_headers(&state(), "GET", path).await;
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    /// The values of `attribute="…"` in the page.
    fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
        let needle = format!("{attribute}=\"");
        html.match_indices(&needle)
            .filter_map(|(at, _)| html[at + needle.len()..].split('"').next())
            .collect()
    }

    #[tokio::test]
    async fn the_page_is_html_with_a_same_origin_policy() {
        let (status, headers, _) = send_with_headers(&state(), "GET", "/").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.contains("default-src 'self'"), "{policy}");
    }

    #[tokio::test]
    async fn every_file_the_page_refers_to_is_served_from_this_origin() {
        let (_, _, html) = get_path("/").await;
        let references: Vec<&str> = attribute_values(&html, "src")
            .into_iter()
            .chain(attribute_values(&html, "href"))
            .collect();
        let files: Vec<&str> = references
            .iter()
            .copied()
            .filter(|r| r.starts_with("/dashboard/"))
            .collect();
        // Every file of the page's own directory but the licence is used by the page.
        for asset in ASSETS {
            if asset.path.starts_with("/dashboard/") && !asset.path.ends_with(".LICENSE") {
                assert!(files.contains(&asset.path), "{} is unused", asset.path);
            }
        }
        for reference in &references {
            assert!(
                reference.starts_with('/'),
                "{reference} is not on this origin"
            );
        }
        for file in files {
            let (status, content_type, body) = get_path(file).await;
            assert_eq!(status, StatusCode::OK, "{file}");
            assert!(!body.is_empty(), "{file}");
            let expected = match file.rsplit('.').next() {
                Some("js") => "text/javascript",
                Some("css") => "text/css",
                Some("svg") => "image/svg+xml",
                other => panic!("unexpected file type {other:?} of {file}"),
            };
            assert!(content_type.starts_with(expected), "{file}: {content_type}");
        }
    }

    #[tokio::test]
    async fn the_page_has_a_modelled_panel_that_says_it_is_a_model() {
        let (_, _, html) = get_path("/").await;
        for needle in [
            "id=\"modelled\"",
            "id=\"modelled-chart\"",
            "id=\"modelled-off\"",
            "a model, not a measurement",
            "--gc-model none",
        ] {
            assert!(html.contains(needle), "the page lacks {needle:?}");
        }
        let (_, _, script) = get_path("/dashboard/dashboard.js").await;
        for needle in ["modelled_gc", "dash:", "modelled gen2"] {
            assert!(script.contains(needle), "dashboard.js lacks {needle:?}");
        }
    }

    #[tokio::test]
    async fn the_vendored_chart_library_is_served_with_its_licence() {
        let (status, _, body) = get_path("/dashboard/uPlot.iife.min.js").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.starts_with("/*! https://github.com/leeoniya/uPlot (v1.6.32) */"));
        let (status, _, licence) = get_path("/dashboard/uPlot.LICENSE").await;
        assert_eq!(status, StatusCode::OK);
        assert!(licence.contains("The MIT License"), "{licence}");
    }

    #[tokio::test]
    async fn endpoints_list_every_builtin_scenario_with_defaults_filled_in() {
        let (status, content_type, body) = get_path("/api/endpoints").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        let listed: Vec<Endpoint> = serde_json::from_str(&body).unwrap();
        let scenarios = scenario::builtin();
        assert_eq!(listed.len(), scenarios.len());
        for (endpoint, scenario) in listed.iter().zip(&scenarios) {
            assert_eq!(endpoint.name, scenario.name);
            assert_eq!(endpoint.route, scenario.path);
            assert!(!endpoint.example.contains('{'), "{endpoint:?}");
            let mut expected = scenario.path.clone();
            for (name, param) in &scenario.params {
                expected = expected.replace(&format!("{{{name}}}"), &param.default.as_text());
            }
            assert_eq!(endpoint.example, expected);
        }
        let loh = scenarios.iter().find(|s| s.name == "loh").unwrap();
        let loh_default = loh.params["size"].default.as_text();
        assert!(
            listed
                .iter()
                .any(|e| e.example == format!("/api/loh/{loh_default}")),
            "{body}"
        );
    }
}
