-- Extension build (kit-app-template convention): the folder name gives the extension name.
local ext = get_current_extension_info()

project_ext(ext)

-- Link only these folders into the extension's target directory.
repo_build.prebuild_link {
    { "config", ext.target_dir.."/config" },
    { "data", ext.target_dir.."/data" },
    { "docs", ext.target_dir.."/docs" },
    { "sim2real_ui", ext.target_dir.."/sim2real_ui" },
}
