//! The `numberpool` binary: parse arguments, load configuration, start logging, dispatch.
#![forbid(unsafe_code)]

use clap::Parser;
use numberpool::cli::{Cli, run};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match cli.config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    numberpool::telemetry::init(&config.log_format, &config.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader of our output went away (`… | head`): end quietly, with the status a shell
        // gives a command killed by SIGPIPE.
        Err(e) if numberpool::cli::is_broken_pipe(&e) => std::process::ExitCode::from(141),
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            std::process::ExitCode::FAILURE
        }
    }
}
