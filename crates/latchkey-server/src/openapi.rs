//! One call registers a route with axum and documents it in the OpenAPI 3.1 document, so
//! the document is generated from the same table that serves requests and cannot list a
//! route that does not exist (or miss one that does).

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, on};
use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, HttpMethod, InfoBuilder, KnownFormat, OpenApi,
    OpenApiBuilder, Paths, Ref, RefOr, Required, ResponseBuilder, SchemaFormat,
};
use utoipa::{PartialSchema, ToSchema};

use crate::app::AppState;

/// What a route takes and answers, for the document.
pub struct Doc {
    summary: &'static str,
    tag: &'static str,
    permission: Option<&'static str>,
    body: Option<(String, &'static str)>,
    response: Response,
    query: Vec<&'static str>,
    schemas: Vec<(String, RefOr<Schema>)>,
    /// Reached without credentials (signing in).
    public: bool,
    /// Problem statuses beyond the usual ones (423 for a locked account).
    statuses: Vec<u16>,
}

enum Response {
    Json(u16, Box<RefOr<Schema>>),
    Page(String),
    Empty(u16),
    Ndjson,
    /// A CSV document (a download).
    Csv,
}

pub fn doc(tag: &'static str, summary: &'static str) -> Doc {
    Doc {
        summary,
        tag,
        permission: None,
        body: None,
        response: Response::Empty(204),
        query: Vec::new(),
        schemas: Vec::new(),
        public: false,
        statuses: Vec::new(),
    }
}

fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

impl Doc {
    fn register<T: ToSchema>(&mut self) -> String {
        let name = T::name().into_owned();
        self.schemas.push((name.clone(), T::schema()));
        T::schemas(&mut self.schemas);
        name
    }

    /// The route takes no credentials.
    pub fn public(mut self) -> Self {
        self.public = true;
        self
    }

    /// The route may also answer this problem status.
    pub fn status(mut self, status: u16) -> Self {
        self.statuses.push(status);
        self
    }

    /// The product permission the route needs (documented; enforced by the service).
    pub fn perm(mut self, permission: &'static str) -> Self {
        self.permission = Some(permission);
        self
    }

    pub fn body<T: ToSchema>(mut self) -> Self {
        let name = self.register::<T>();
        self.body = Some((name, "application/json"));
        self
    }

    /// NDJSON in and NDJSON out.
    pub fn ndjson(mut self) -> Self {
        self.body = Some((String::new(), "application/x-ndjson"));
        self.response = Response::Ndjson;
        self
    }

    /// Answers a CSV document.
    pub fn csv(mut self) -> Self {
        self.response = Response::Csv;
        self
    }

    pub fn csv_body(mut self) -> Self {
        self.body = Some(("".to_owned(), "text/csv"));
        self
    }

    pub fn ok<T: ToSchema>(mut self) -> Self {
        let name = self.register::<T>();
        self.response = Response::Json(200, Box::new(schema_ref(&name)));
        self
    }

    pub fn ok_array<T: ToSchema>(mut self) -> Self {
        let name = self.register::<T>();
        self.response = Response::Json(
            200,
            Box::new(ArrayBuilder::new().items(schema_ref(&name)).into()),
        );
        self
    }

    pub fn created<T: ToSchema>(mut self) -> Self {
        let name = self.register::<T>();
        self.response = Response::Json(201, Box::new(schema_ref(&name)));
        self
    }

    /// 202: the work was started; the body tells how to follow it.
    pub fn accepted<T: ToSchema>(mut self) -> Self {
        let name = self.register::<T>();
        self.response = Response::Json(202, Box::new(schema_ref(&name)));
        self
    }

    pub fn no_content(mut self) -> Self {
        self.response = Response::Empty(204);
        self
    }

    /// A cursor-paginated list of `T`, with its filters.
    pub fn page<T: ToSchema>(mut self, filters: &[&'static str]) -> Self {
        let name = self.register::<T>();
        self.response = Response::Page(name);
        self.query.extend(["limit", "cursor", "order", "format"]);
        self.query.extend(filters);
        self
    }

    pub fn query(mut self, params: &[&'static str]) -> Self {
        self.query.extend(params);
        self
    }
}

pub struct ApiRouter {
    router: Router<AppState>,
    paths: Paths,
    schemas: Vec<(String, RefOr<Schema>)>,
}

impl Default for ApiRouter {
    fn default() -> Self {
        Self {
            router: Router::new(),
            paths: Paths::new(),
            schemas: Vec::new(),
        }
    }
}

impl ApiRouter {
    pub fn route<H, X>(
        mut self,
        method: HttpMethod,
        path: &'static str,
        handler: H,
        doc: Doc,
    ) -> Self
    where
        H: Handler<X, AppState>,
        X: 'static,
    {
        let filter = match &method {
            HttpMethod::Get => MethodFilter::GET,
            HttpMethod::Post => MethodFilter::POST,
            HttpMethod::Put => MethodFilter::PUT,
            HttpMethod::Patch => MethodFilter::PATCH,
            HttpMethod::Delete => MethodFilter::DELETE,
            HttpMethod::Head => MethodFilter::HEAD,
            HttpMethod::Options => MethodFilter::OPTIONS,
            HttpMethod::Trace => MethodFilter::TRACE,
        };
        self.router = self.router.route(path, on(filter, handler));
        self.document(method, path, doc);
        self
    }

    pub fn get<H: Handler<X, AppState>, X: 'static>(
        self,
        path: &'static str,
        h: H,
        doc: Doc,
    ) -> Self {
        self.route(HttpMethod::Get, path, h, doc)
    }

    pub fn post<H: Handler<X, AppState>, X: 'static>(
        self,
        path: &'static str,
        h: H,
        doc: Doc,
    ) -> Self {
        self.route(HttpMethod::Post, path, h, doc)
    }

    pub fn put<H: Handler<X, AppState>, X: 'static>(
        self,
        path: &'static str,
        h: H,
        doc: Doc,
    ) -> Self {
        self.route(HttpMethod::Put, path, h, doc)
    }

    pub fn patch<H: Handler<X, AppState>, X: 'static>(
        self,
        path: &'static str,
        h: H,
        doc: Doc,
    ) -> Self {
        self.route(HttpMethod::Patch, path, h, doc)
    }

    pub fn delete<H: Handler<X, AppState>, X: 'static>(
        self,
        path: &'static str,
        h: H,
        doc: Doc,
    ) -> Self {
        self.route(HttpMethod::Delete, path, h, doc)
    }

    fn document(&mut self, method: HttpMethod, path: &'static str, mut doc: Doc) {
        let method_name = match method {
            HttpMethod::Get => "get",
            HttpMethod::Post => "post",
            HttpMethod::Put => "put",
            HttpMethod::Patch => "patch",
            HttpMethod::Delete => "delete",
            HttpMethod::Head => "head",
            HttpMethod::Options => "options",
            HttpMethod::Trace => "trace",
        };
        let op_id = format!("{method_name}{}", path.replace(['/', '{', '}', '-'], "_"));
        let mut op = OperationBuilder::new()
            .summary(Some(doc.summary))
            .tag(doc.tag)
            .operation_id(Some(op_id))
            .description(
                doc.permission
                    .map(|p| format!("Requires the `{p}` permission (within its scope).")),
            );
        for segment in path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
                        )),
                );
            }
        }
        for q in &doc.query {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(*q)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
            );
        }
        if let Some((name, content_type)) = &doc.body {
            let schema: RefOr<Schema> = if name.is_empty() {
                ObjectBuilder::new().schema_type(Type::String).into()
            } else {
                schema_ref(name)
            };
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        *content_type,
                        ContentBuilder::new().schema(Some(schema)).build(),
                    )
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        op = match &doc.response {
            Response::Json(status, schema) => op.response(
                status.to_string(),
                ResponseBuilder::new().description("success").content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some((**schema).clone()))
                        .build(),
                ),
            ),
            Response::Page(name) => {
                let page = ObjectBuilder::new()
                    .property("items", ArrayBuilder::new().items(schema_ref(name)))
                    .required("items")
                    .property(
                        "next_cursor",
                        ObjectBuilder::new().schema_type(Type::String),
                    )
                    .into();
                let page: RefOr<Schema> = page;
                op.response(
                    "200",
                    ResponseBuilder::new()
                        .description("a page; `next_cursor` fetches the next one. With `format=csv` every page as CSV.")
                        .content("application/json", ContentBuilder::new().schema(Some(page)).build())
                        .content("text/csv", ContentBuilder::new().build()),
                )
            }
            Response::Ndjson => op.response(
                "200",
                ResponseBuilder::new()
                    .description("one JSON object a line: a created record, an error, progress, then a summary")
                    .content("application/x-ndjson", ContentBuilder::new().build()),
            ),
            Response::Empty(status) => op.response(
                status.to_string(),
                ResponseBuilder::new().description("done"),
            ),
            Response::Csv => op.response(
                "200",
                ResponseBuilder::new()
                    .description("a CSV document with a header row")
                    .content("text/csv", ContentBuilder::new().build()),
            ),
        };
        let problem = || {
            ResponseBuilder::new()
                .description("a problem (RFC 9457) with a stable `code` and the fields at fault")
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(schema_ref("Problem")))
                        .build(),
                )
        };
        op = op.response("401", problem()).response("403", problem());
        if !doc.public {
            op = op.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        }
        for status in &doc.statuses {
            op = op.response(status.to_string(), problem());
        }
        op = op.response("404", problem()).response("422", problem());
        if matches!(
            method,
            HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch | HttpMethod::Delete
        ) {
            op = op.response("409", problem());
        }
        if matches!(method, HttpMethod::Patch | HttpMethod::Delete) {
            op = op.response("412", problem());
        }
        self.paths
            .add_path_operation(path, vec![method], op.build());
        self.schemas.append(&mut doc.schemas);
    }

    pub fn finish(mut self) -> (Router<AppState>, OpenApi) {
        self.schemas.push((
            latchkey_api::Problem::name().into_owned(),
            latchkey_api::Problem::schema(),
        ));
        latchkey_api::Problem::schemas(&mut self.schemas);
        let mut seen = std::collections::HashSet::new();
        self.schemas.retain(|(n, _)| seen.insert(n.clone()));
        let components = ComponentsBuilder::new()
            .schemas_from_iter(self.schemas)
            .security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("lk_ API token or lks_ session")
                        .build(),
                ),
            )
            .build();
        let api = OpenApiBuilder::new()
            .info(
                InfoBuilder::new()
                    .title("Latchkey")
                    .version(env!("CARGO_PKG_VERSION"))
                    .description(Some("Identity governance and access management: the directory, its roles and who holds what, and why.")),
            )
            .paths(self.paths)
            .components(Some(components))
            .build();
        (self.router, api)
    }
}
