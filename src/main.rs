use clap::Parser;

/// mimalloc: the receiver allocates per request (headers, AMQP frames); measured ~15% more
/// webhooks/s than the system allocator on the load generator (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = orderflow::cli::Cli::parse();
    match orderflow::cli::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}
