"""What people see: the Streamlit app, thin pages over cached loaders and pure builders."""
