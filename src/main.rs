fn main() -> std::process::ExitCode {
    lcspr_tracker::cli::main()
}
