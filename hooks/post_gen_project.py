"""Cookiecutter runs this in the new project: tidy optional folders, print the next steps.

Optional files carry their condition in their own name and are skipped when it renders empty;
the folders that held only such files are removed here, and so are folders an answer leaves out
as a whole (copier.yml's `_exclude` does the same for copier). Keep the wording of the next
steps in step with `_message_after_copy` (tests compare).
"""

import shutil
from pathlib import Path

OPTIONAL_FOLDERS = [".github/workflows", ".github"]
# Folders written only for some answers, each with whether this project keeps it.
ANSWERED_FOLDERS = {"chart": "{{ cookiecutter.deploy }}" == "helm"}

for folder in OPTIONAL_FOLDERS:
    path = Path(folder)
    if path.is_dir() and not any(path.iterdir()):
        path.rmdir()

for folder, kept in ANSWERED_FOLDERS.items():
    if not kept:
        shutil.rmtree(folder)

print(
    f"""
Your service "{{ cookiecutter.project_slug }}" is ready in {Path.cwd()}.

Next steps:
  cd {Path.cwd()}
  cargo run                          # serves http://127.0.0.1:{{ cookiecutter.http_port }}/healthz
  cargo test --locked                # the service's own tests
"""
)
