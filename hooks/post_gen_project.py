"""Cookiecutter runs this in the new project: remove empty optional folders, print next steps.

Which files a project gets is decided by the files' own names: every file of an optional folder
carries its condition in its name, and both engines skip a file whose name renders empty. So
copier, cookiecutter, cruft and Backstage write the same files without this hook. Cookiecutter
still creates every folder of the tree before it renders the names of the files in it (a
folder whose own name renders empty makes it abort), so the folders left empty are removed
here; copier.yml's `_exclude` keeps copier from creating them, and git, which Backstage's
publishing commits through, does not record an empty folder. Keep the wording of the next
steps in step with `_message_after_copy` (tests compare).
"""

from pathlib import Path

# Deepest first: a folder is empty once the folders inside it are gone.
OPTIONAL_FOLDERS = [".github/workflows", ".github", "chart/templates", "chart"]

for folder in OPTIONAL_FOLDERS:
    path = Path(folder)
    if path.is_dir() and not any(path.iterdir()):
        path.rmdir()

print(
    f"""
Your service "{{ cookiecutter.project_slug }}" is ready in {Path.cwd()}.

Next steps:
  cd {Path.cwd()}
  cargo run                          # serves http://127.0.0.1:{{ cookiecutter.http_port }}/healthz
  cargo test --locked                # the service's own tests
"""
)
