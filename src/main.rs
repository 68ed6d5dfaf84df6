use clap::Parser;

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
