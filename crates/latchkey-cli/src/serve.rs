//! `latchkey serve`: hands the flags to the server crate, which owns configuration loading,
//! the database and the HTTP listener. Kept apart so that the rest of the command line
//! depends on the server in this one place.

use crate::cli::ServeArgs;

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    latchkey_server::serve(latchkey_server::ServeOptions {
        listen: args.listen,
        data_dir: args.data_dir,
        database_url: args.database_url,
        config: args.config,
    })
    .await
}
