-- Kit app build entry, following kit-app-template conventions (repo_build + repo_kit_tools).
-- With kit-app-template's tooling fetched into _repo/ (./repo.sh build), this builds a Kit app that
-- loads the extensions under exts/. sim2real does not need it: Isaac Sim can also load exts/
-- directly with --ext-folder (see README).

-- Shared build scripts from the repo_build package.
repo_build = require("omni/repo/build")

-- Repository root
root = repo_build.get_abs_path(".")

-- Kit-friendly premake configuration (solution, extension discovery, test launchers).
kit = require("_repo/deps/repo_kit_tools/kit-template/premake5-kit")
kit.setup_all({ cppdialect = "C++17" })

-- Each extension folder under exts/ has its own premake5.lua calling project_ext().
for _, ext_dir in ipairs(os.matchdirs(root .. "/exts/*")) do
    if os.isfile(ext_dir .. "/premake5.lua") then
        include(ext_dir)
    end
end

-- Apps: a batch file and a project per experience file in config/.
define_app("sim2real.kit")
define_app("sim2real.headless.kit")
