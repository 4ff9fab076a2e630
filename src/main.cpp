// The countersign binary: everything lives in the libraries; see cli/app.hpp.
#include "cli/app.hpp"

int main(int argc, char** argv) { return countersign::RunCli(argc, argv); }
